"""The smoke suite: the production layout answers through nginx as residents and API clients reach it.

Pages, static files, the API, an upload with a photo, the resident's own address behind the proxy, and a
WebSocket subscription that receives the change that upload made.
"""

from __future__ import annotations

import io
import json
import re

import httpx
from PIL import Image
from websockets.sync.client import connect

from deploy.layout import Layout
from tests.deploy.conftest import REPORT_LIMIT

REPORT = {"title": "Leaking reservoir", "description": "Water runs down the hill below the reservoir.",
          "report_type": "issue", "lng": "28.19", "lat": "-25.75"}


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(buffer, format="JPEG")
    return buffer.getvalue()


def client(layout: Layout, source: str = "127.0.0.1") -> httpx.Client:
    # Every 127.x address reaches this machine, so a second "resident" is a second source address.
    return httpx.Client(base_url=layout.url, timeout=20, transport=httpx.HTTPTransport(local_address=source))


def test_pages_come_through_nginx_compressed(layout: Layout) -> None:
    with client(layout) as http:
        home = http.get("/", headers={"Accept-Encoding": "gzip"})
        about = http.get("/about/")
        missing = http.get("/projects/00000000-0000-0000-0000-000000000000/")
    assert home.status_code == 200 and home.headers["server"] == "nginx"
    assert home.headers["content-encoding"] == "gzip"
    assert "Buka Amanzi" in home.text
    assert about.status_code == 200
    assert missing.status_code == 404 and "<html" in missing.text


def test_hashed_static_files_are_served_by_nginx_with_a_long_cache(layout: Layout) -> None:
    with client(layout) as http:
        page = http.get("/").text
        css = re.search(r'/static/css/site\.[0-9a-f]{12}\.css', page)
        assert css is not None, "the home page links no hashed stylesheet"
        response = http.get(css.group(0), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Served from the file whitenoise compressed at collectstatic (gzip_static), not by Django: no Vary: Cookie.
    assert response.headers["content-encoding"] == "gzip" and "cookie" not in response.headers.get("vary", "").lower()


def test_the_api_answers_through_nginx(layout: Layout, project_id: str) -> None:
    with client(layout) as http:
        health = http.get("/api/v1/health")
        detail = http.get(f"/api/v1/projects/{project_id}")
        listing = http.get("/api/v1/projects", params={"limit": 5})
    assert health.status_code == 200 and health.json()["database"] == "ok"
    assert health.json()["channel_layer"] == "ok"
    assert detail.status_code == 200 and detail.json()["name"] == "Smoke-test reservoir"
    assert listing.status_code == 200


def test_an_uploaded_report_photo_is_stored_and_served_by_nginx(layout: Layout, project_id: str) -> None:
    with client(layout, "127.0.0.4") as http:
        response = http.post("/api/v1/reports", data={**REPORT, "project_id": project_id},
                             files=[("photos", ("reservoir.jpg", jpeg(), "image/jpeg"))])
        assert response.status_code == 201, response.text
        photo = response.json()["photos"][0]["url"]
        served = http.get(photo)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=3600"
    assert served.content[:2] == b"\xff\xd8"


def test_the_rate_limit_counts_the_residents_address_not_nginx_nor_a_forged_header(layout: Layout) -> None:
    def send(source: str, forged: str) -> int:
        with client(layout, source) as http:
            body = {**REPORT, "title": f"Report from {source} claiming {forged}"}
            return http.post("/api/v1/reports", json=body, headers={"X-Forwarded-For": forged}).status_code

    # One resident writing a new address into X-Forwarded-For each time is still one resident...
    first = [send("127.0.0.2", f"198.51.100.{n}") for n in range(REPORT_LIMIT + 1)]
    assert first == [201] * REPORT_LIMIT + [429]
    # ...and another resident behind the same nginx has a count of their own.
    assert send("127.0.0.3", "198.51.100.1") == 201


def test_a_websocket_subscription_through_nginx_receives_a_change(layout: Layout, project_id: str) -> None:
    with connect(f"{layout.ws_url}/ws/projects", origin=layout.url, open_timeout=10) as socket:
        socket.send(json.dumps({"action": "subscribe", "entity_type": "project", "entity_id": project_id}))
        confirmed = json.loads(socket.recv(timeout=10))
        assert confirmed["type"] == "subscription_confirmed"
        with client(layout, "127.0.0.5") as http:
            response = http.post("/api/v1/reports", json={**REPORT, "project_id": project_id,
                                                          "title": "Seen live"})
        assert response.status_code == 201, response.text
        while True:
            message = json.loads(socket.recv(timeout=10))
            if message["type"] == "data_update":
                break
    assert message["id"] > confirmed["latest_id"]
    assert message["data"]["project_id"] == project_id
    assert message["data"]["change_type"] == "created"
