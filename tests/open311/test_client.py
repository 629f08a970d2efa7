"""A real Open311 client from PyPI (georeport) against the site served by daphne in its own process, on a
database of its own (SpatiaLite, or PostGIS when the run uses it): list services, read a service's definition,
post a request with an API key, read it back by token and then by id, and filter by date and status, in JSON and
in XML.

georeport reads only (it has no POST), so posting goes through `requests`, the HTTP library georeport itself
uses, with the form fields the specification names.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg
import pytest
import requests
from defusedxml import ElementTree
from georeport import GeoReport

from tests.realtime.test_end_to_end import PYTHON, Site, free_port, http_ok, wait_until

pytestmark = pytest.mark.e2e


@contextmanager
def site_database(directory: Path) -> Iterator[str]:
    """The served site's own database, on the kind the run uses: a SpatiaLite file, or with a PostGIS
    DATABASE_URL a fresh database on the same server (dropped after)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgis"):
        yield f"spatialite:///{directory / 'site.sqlite3'}"
        return
    config = environ.Env.db_url_config(url)
    name = f"open311_e2e_{os.getpid()}"
    server = {"host": config["HOST"] or config.get("OPTIONS", {}).get("host"), "port": config["PORT"] or None,
              "user": config["USER"] or None, "password": config["PASSWORD"] or None}

    def admin(statement: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
            connection.execute(statement)

    admin(f"DROP DATABASE IF EXISTS {name}")
    admin(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("open311")
    with site_database(directory) as database_url:
        # One process, so the in-memory channel layer serves; no Redis is needed to answer HTTP.
        site = Site.in_directory(directory, free_port(), CHANNEL_LAYER="memory", DATABASE_URL=database_url,
                                 ALERT_NEW_SENDER_HOLD_MINUTES="60")
        yield from _served(site)


def _served(site: Site) -> Iterator[Site]:
    site.manage("migrate", "--no-input", "-v", "0")
    site.start("daphne", PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(site.port), "bukaamanzi.asgi:application")
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{site.port}/open311/v2/discovery.json"),
                   "daphne did not answer: " + site.log("daphne"), 90)
        yield site
    finally:
        site.stop_all()


@pytest.fixture(scope="module")
def secret(site: Site) -> str:
    return site.manage("shell", "-c", (
        "from apikeys.services import api_key_issue; "
        "print(api_key_issue(name='Ward app', owner_email='dev@example.org', scopes=['open311:post'], "
        "moderator='root', reason='e2e')[1])")).splitlines()[-1]  # after the shell's own banner


def root(site: Site) -> str:
    return f"http://127.0.0.1:{site.port}/open311/v2"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_georeport_client_lists_services_posts_and_reads_back(site: Site, secret: str, fmt: str) -> None:
    client = GeoReport(root(site), api_key=secret, output_format=fmt)
    services = client.get_service_list()
    assert [s["service_code"] for s in services] == ["issue", "quality_concern", "progress_update", "completion"]
    assert {s["group"] for s in services} == {"Water and sanitation"}
    definition = client.get_service_definition("issue")
    codes = [a["code"] for a in (definition["attributes"] if fmt == "json"
                                 else definition["attributes"]["attribute"])]
    assert codes == ["project", "title", "rough_location"]

    # A first-time sender: held, so the answer is a token.
    posted = requests.post(f"{root(site)}/requests.json", timeout=30, data={
        "api_key": secret, "service_code": "issue", "lat": "-26.2041", "long": "28.0473",
        "description": f"No water since Monday ({fmt})", "email": f"first-{fmt}@example.org",
        "first_name": "Sipho"})
    assert posted.status_code == 201, posted.text
    token = posted.json()[0]["token"]
    by_token = requests.get(f"{root(site)}/tokens/{token}.json", timeout=30).json()
    assert by_token == [{"service_request_id": None, "token": token}]

    site.manage("shell", "-c", (
        "from reports.models import Report; from reports.services import report_publish; "
        f"report_publish(reports=[Report.objects.get(open311__token={token!r})], moderator='mod', reason='ok')"))
    request_id = requests.get(f"{root(site)}/tokens/{token}.json", timeout=30).json()[0]["service_request_id"]
    assert request_id

    request = client.get_service_request(request_id)
    if fmt == "xml":
        # xmltodict gives a list for several items, a dict for one
        request = request[0] if isinstance(request, list) else request
    assert request["service_request_id"] == request_id
    assert (request["status"], request["service_code"]) == ("open", "issue")
    assert request["description"].startswith(f"No water since Monday ({fmt})")
    assert f"first-{fmt}@example.org" not in str(request)

    today = dt.datetime.now(dt.UTC)
    start = (today - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = client.get_service_requests(start_date=start, status="open")
    found = found if isinstance(found, list) else [found]
    assert request_id in [item["service_request_id"] for item in found]
    # georeport fails on an empty XML list (xmltodict reads <service_requests/> as None), so empty answers are
    # read directly.
    earlier = (today - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for params in ({"start_date": start, "status": "closed"}, {"start_date": earlier, "end_date": start}):
        answer = requests.get(f"{root(site)}/requests.{fmt}", params=params, timeout=30)
        assert answer.status_code == 200
        assert (answer.json() == []) if fmt == "json" else len(ElementTree.fromstring(answer.content)) == 0
