"""Webhook receivers the tests start: real HTTP servers on free local ports, each in a thread.

- `good`: verifies every signature with the `standardwebhooks` package (as a receiver would), answers 204, and keeps
  each delivery's webhook-id and change id, so a test can check that each change arrived once;
- `slow`: holds its first `slow_for` requests past the sender's timeout, then answers like the good one;
- `failing`: answers 500 to everything.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class Receiver:
    kind: str = "good"  # good | slow | failing
    secret: str = ""
    slow_for: int = 0
    hold_seconds: float = 2.0
    received: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests += 1
                    number = receiver.requests
                if receiver.kind == "failing":
                    self._answer(500, b"broken on purpose")
                    return
                if receiver.kind == "slow" and number <= receiver.slow_for:
                    time.sleep(receiver.hold_seconds)
                    self._answer(204, b"")
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    parsed = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self._answer(401, b"bad signature")
                    return
                with receiver.lock:
                    receiver.received.append(Received(headers["webhook-id"], parsed, headers, time.time()))
                self._answer(204, b"")

            def _answer(self, status: int, text: bytes) -> None:
                with suppress(OSError):  # the sender gave up waiting (the slow receiver)
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/buka?x=1"

    def change_ids(self) -> Counter[int]:
        with self.lock:
            return Counter(r.body["data"]["change_id"] for r in self.received if "change_id" in r.body["data"])

    def webhook_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r.webhook_id for r in self.received)

    def types(self) -> list[str]:
        with self.lock:
            return [r.body["type"] for r in self.received]


def json_of(text: bytes) -> Any:
    return json.loads(text)
