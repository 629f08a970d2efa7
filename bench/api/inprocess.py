"""Time the API endpoints in-process (django.test.Client, one client, no server or network) on DATABASE_URL.

    DATABASE_URL=... .venv/bin/python bench/api/inprocess.py [requests per scenario=200] [--profile SCENARIO]

Less noisy than the load test on a shared machine: it shows what one request costs the application itself. The
scenarios and random ids / pages / viewports are the load test's (`bench/api/load.py`). With `--profile`, prints
the cProfile of one scenario's requests instead (top 25 by cumulative time).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
os.environ.setdefault("BENCH_VIEWS", "true")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.api.load import scenarios  # noqa: E402
from projects.models import Project  # noqa: E402


def main(count: int, profile: str = "") -> None:
    ids = [str(pk) for pk in Project.objects.order_by("?").values_list("id", flat=True)[:2000]]
    client = Client(headers={"Accept-Encoding": "identity"})
    for name, make_path in scenarios(ids).items():
        if profile and name != profile:
            continue
        rng = random.Random(11)
        paths = [make_path(rng) for _ in range(count)]
        for path in paths[:5]:  # warm-up: connection, imports, first-use caches
            client.get(path)
        profiler = cProfile.Profile() if profile else None
        timings = []
        for path in paths:
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            response = client.get(path)
            if profiler:
                profiler.disable()
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            continue
        timings.sort()
        print(json.dumps({"database": connection.vendor, "scenario": name, "requests": count,
                          "p50_ms": round(timings[len(timings) // 2], 1),
                          "p95_ms": round(timings[int(len(timings) * 0.95)], 1),
                          "mean_ms": round(statistics.fmean(timings), 1)}), flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    target = ""
    if "--profile" in args:
        at = args.index("--profile")
        target = args[at + 1]
        del args[at : at + 2]
    main(int(args[0]) if args else 200, target)
