"""What the observability middleware costs a request: `/about/` (every middleware, a template, no query) served by
Django's WSGI handler in-process, one request at a time, with the middleware

- out: removed from MIDDLEWARE (the site before issue 18),
- ids: request ids only (METRICS_ENABLED=false, the default),
- metrics: request ids and metrics, prometheus-client in multiprocess mode (files in a temporary
  PROMETHEUS_MULTIPROC_DIR), as scripts/serve.py runs it.

    .venv/bin/python bench/observability/overhead.py [--requests 3000] [--rounds 7]

Each variant runs in its own process (the settings differ); rounds alternate the order. A round's figure is the
best of five batches (other tenants of the machine only ever add time); the table shows medians over rounds.
"The middleware alone" wraps a view that does nothing, so its differences are the middleware's own cost; the page
figures show it against a whole request (on a busy shared machine their noise is larger than the difference).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("out", "ids", "metrics")

CHILD = """
import io, json, os, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "bukaamanzi.settings"
import django
from django.conf import settings
django.setup()
if {variant!r} == "out":
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "observability" not in m]
from django.core.handlers.wsgi import WSGIHandler
handler = WSGIHandler()
def environ():
    return {{"REQUEST_METHOD": "GET", "PATH_INFO": "/about/", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
            "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http", "HTTP_HOST": "localhost", "QUERY_STRING": ""}}
def start_response(status, headers, exc_info=None):
    assert status.startswith("200"), status
for _ in range(200):  # warm-up: templates compiled, translations loaded
    b"".join(handler(environ(), start_response))
import timeit
# The best of five batches: on a shared machine the other tenants only ever add time.
page = min(timeit.repeat(lambda: b"".join(handler(environ(), start_response)), number={requests}, repeat=5))
page = page / {requests} * 1e6
# The middleware alone, around a view that does nothing, on a request already resolved to a route.
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from bukaamanzi.observability.middleware import ObservabilityMiddleware
request = RequestFactory().get("/about/")
request.resolver_match = resolve("/about/")
inner = lambda r: HttpResponse()
call = inner if {variant!r} == "out" else ObservabilityMiddleware(inner)
alone = min(timeit.repeat(lambda: call(request), number=20 * {requests}, repeat=5)) / (20 * {requests}) * 1e6
print(json.dumps([page, alone]))
"""


def measure(variant: str, requests: int, metrics_dir: str) -> list[float]:
    env = {**os.environ, "CHANNEL_LAYER": "memory", "LOG_LEVEL": "WARNING", "DEBUG": "false",
           "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
           "DATABASE_URL": f"spatialite:///{metrics_dir}/unused.sqlite3", "DB_CONN_MAX_AGE": "600",
           "METRICS_ENABLED": "true" if variant == "metrics" else "false", "METRICS_ALLOW": "127.0.0.1/32"}
    if variant == "metrics":
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    code = CHILD.format(root=str(ROOT), variant=variant, requests=requests)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return [float(x) for x in json.loads(out.stdout.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[list[float]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="ba-metrics-") as directory:
        for round_ in range(args.rounds):
            order = VARIANTS if round_ % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                times[variant].append(measure(variant, args.requests, directory))
    print(f"{args.requests} requests x {args.rounds} rounds; median microseconds per request")
    for index, what in enumerate(("/about/ through the WSGI handler", "the middleware alone (empty view)")):
        base = statistics.median(t[index] for t in times["out"])
        print(what)
        for variant in VARIANTS:
            values = [t[index] for t in times[variant]]
            median = statistics.median(values)
            print(f"  {variant:8} {median:9.2f} us  ({median - base:+.2f} us vs out; rounds {min(values):.2f}"
                  f"-{max(values):.2f})")


if __name__ == "__main__":
    main()
