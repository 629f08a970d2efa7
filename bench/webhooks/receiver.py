"""The bench's webhook receiver, in a process of its own so that it does not share the sender's cores' GIL:
answers 204 at once (HTTP/1.1 keep-alive) and records each delivery's path, webhook-id, change id and arrival time.
Writes them as JSON to OUT on SIGTERM.

    python bench/webhooks/receiver.py PORT OUT
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

received: list[tuple[str, str, int | None, float]] = []
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        arrived = time.time()
        with lock:
            received.append((self.path, self.headers["webhook-id"], body["data"].get("change_id"), arrived))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main() -> None:
    port, out = int(sys.argv[1]), sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def finish(*_args: Any) -> None:
        with lock, open(out, "w") as handle:
            json.dump(received, handle)
        os._exit(0)  # at once: threads may still hold keep-alive connections open

    signal.signal(signal.SIGTERM, finish)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
