"""A real HTTP server on 127.0.0.1 serving the saved responses, and settings that point the sources at it.

No HTTP client is mocked: requests go through the shared session, urllib3's retries and the breaker to this
server, which answers from scripted replies (a status, a delay longer than the read timeout, a body).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(source: str, name: str) -> bytes:
    return (FIXTURES / source / name).read_bytes()


@dataclass
class Reply:
    body: bytes | str = b""
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: str


Route = Callable[[Seen], Reply]


class SourceServer:
    """Routes by path; each route is a function of the request. `script(path, replies)` answers the next
    requests to `path` with `replies` in turn before falling back to the route."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.scripted: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                seen = Seen(self.command, parts.path, parse_qs(parts.query), body)
                with server.lock:
                    server.seen.append(seen)
                    queue = server.scripted.get(parts.path)
                    reply = queue.pop(0) if queue else None
                if reply is None:
                    route = server.routes.get(parts.path)
                    reply = route(seen) if route else Reply(b"not found", 404, "text/plain")
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (read timeout): that is the point of a delayed reply

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> SourceServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve(self, path: str, reply: Reply | Route) -> None:
        self.routes[path] = reply if callable(reply) else (lambda seen, reply=reply: reply)

    def script(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.scripted.setdefault(path, []).extend(replies)

    def hits(self, path: str, method: str | None = None) -> int:
        return sum(1 for seen in self.seen if seen.path == path and (method is None or seen.method == method))


GEOGRAPHY = "/api/geography/geography/"
PROJECTS = "/api/v1/infrastructure/projects/"
CAPITAL = "/api/cubes/capital_v2/aggregate"
PMD = "/pmd/level.aspx"


def treasury_routes(server: SourceServer, pages: dict[str, bytes] | None = None) -> None:
    """The Municipal Money fixtures: geography, two project pages (by offset) and one capital aggregate."""
    pages = pages or {
        "0": fixture_bytes("municipal_money", "projects_page1.json"),
        "5": fixture_bytes("municipal_money", "projects_page2.json"),
    }
    server.serve(GEOGRAPHY, Reply(fixture_bytes("municipal_money", "geography.json")))
    server.serve(PROJECTS, lambda seen: Reply(pages.get(seen.query.get("offset", ["0"])[0], b"[]")))
    server.serve(CAPITAL, Reply(fixture_bytes("municipal_money", "capital_v2_aggregate.json")))


# The server emits links with `enc=` values; this is the one of !Kheis (NC084) in level_index.html.
KHEIS_ENC = "RklYVFVSRW11bmkx+bQ"


def dws_routes(server: SourceServer, municipality_page: str = "project_grid.html") -> None:
    """The dashboard: the index (id=630), !Kheis's project grid with a second page by callback, and pages
    without a grid for the other municipalities."""

    def level(seen: Seen) -> Reply:
        if seen.query.get("id") == ["630"]:
            return Reply(fixture_bytes("dws", "level_index.html"), content_type="text/html; charset=utf-8")
        if seen.query.get("enc") == [KHEIS_ENC]:
            if seen.method == "POST":
                return Reply(fixture_bytes("dws", "callback_page2.txt"), content_type="text/plain; charset=utf-8")
            return Reply(fixture_bytes("dws", municipality_page), content_type="text/html; charset=utf-8")
        return Reply(fixture_bytes("dws", "level_index_real_shell.html"), content_type="text/html; charset=utf-8")

    server.serve(PMD, level)


@pytest.fixture
def source_server(settings: pytest.FixtureRequest) -> Iterator[SourceServer]:
    """A running local server, with every source URL pointing at it and retries kept tiny."""
    server = SourceServer().start()
    settings.MUNICIPAL_MONEY_URL = server.url
    settings.MUNICIPAL_DATA_URL = server.url
    settings.DWS_PMD_URL = f"{server.url}/pmd/"
    settings.DWS_INDEX_PATH = "level.aspx?df=1&lv=1&id=630"
    settings.HTTP_CONNECT_TIMEOUT = 2.0
    settings.HTTP_READ_TIMEOUT = 0.5
    settings.HTTP_RETRIES = 2
    settings.HTTP_BACKOFF_FACTOR = 0.001
    settings.HTTP_BACKOFF_JITTER = 0.001
    settings.HTTP_BACKOFF_MAX = 0.01
    settings.HTTP_PROXY_URL = ""
    settings.BREAKER_FAILURES = 2
    settings.BREAKER_COOLDOWN_SECONDS = 600
    settings.TREASURY_PAGE_SIZE = 5
    settings.TREASURY_CAPITAL_YEARS = [2023]
    settings.TREASURY_CAPITAL_AMOUNT_TYPES = ["AUDA"]
    settings.TREASURY_CAPITAL_BATCH = 1000
    yield server
    server.stop()
