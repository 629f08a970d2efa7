"""A small load generator: C concurrent keep-alive clients, alternating between the given servers, per scenario.

    .venv/bin/python bench/api/load.py --servers http://127.0.0.1:8101,http://127.0.0.1:8102 \
        --ids var/bench/ids.txt --seconds 15 --clients 16 --label daphne

Prints one JSON line per scenario: requests, errors, throughput and latency percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import time
from collections.abc import Callable

import httpx

SA = (16.5, -34.8, 32.9, -22.2)


def viewport(rng: random.Random) -> str:
    """A random map viewport about 1024 x 768 px at a random zoom from 5 (the country) to 12 (a town)."""
    zoom = rng.randint(5, 12)
    width = 360 / 2**zoom * 4
    height = width * 0.75
    lng = rng.uniform(SA[0], SA[2] - width) if width < SA[2] - SA[0] else SA[0]
    lat = rng.uniform(SA[1], SA[3] - height) if height < SA[3] - SA[1] else SA[1]
    return f"bbox={lng:.5f},{lat:.5f},{lng + width:.5f},{lat + height:.5f}&zoom={zoom}"


def scenarios(ids: list[str]) -> dict[str, Callable[[random.Random], str]]:
    return {
        "bare_select": lambda rng: f"/bench/bare/projects/{rng.choice(ids)}",
        "project_detail": lambda rng: f"/api/v1/projects/{rng.choice(ids)}",
        "list_100": lambda rng: f"/api/v1/projects?limit=100&page={rng.randint(1, 50)}",
        "map_layer": lambda rng: f"/api/v1/map/projects?{viewport(rng)}",
    }


async def run(servers: list[str], make_path: Callable[[random.Random], str], seconds: float, clients: int,
              warmup: float) -> dict[str, object]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + warmup + seconds
    measure_from = time.perf_counter() + warmup
    turn = itertools.count()

    async def client(number: int) -> None:
        nonlocal errors
        rng = random.Random(number)
        pools = [httpx.AsyncClient(base_url=server, timeout=30, headers={"Accept-Encoding": "identity"})
                 for server in servers]
        try:
            while (now := time.perf_counter()) < deadline:
                pool = pools[next(turn) % len(pools)]
                started = time.perf_counter()
                try:
                    response = await pool.get(make_path(rng))
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - started
                if now >= measure_from:
                    latencies.append(elapsed * 1000)
                    errors += not ok
        finally:
            for pool in pools:
                await pool.aclose()

    await asyncio.gather(*(client(n) for n in range(clients)))
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1) if latencies else 0.0

    return {"requests": len(latencies), "errors": errors, "rps": round(len(latencies) / seconds, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--label", default="")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    with open(args.ids) as handle:
        ids = handle.read().split()
    servers = args.servers.split(",")
    for name, make_path in scenarios(ids).items():
        if args.only and name not in args.only.split(","):
            continue
        result = asyncio.run(run(servers, make_path, args.seconds, args.clients, args.warmup))
        print(json.dumps({"server": args.label, "scenario": name, **result}), flush=True)


if __name__ == "__main__":
    main()
