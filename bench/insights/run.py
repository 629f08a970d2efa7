"""The insights pages under load: the national page warm (wrk) against the About page in the same run, the page
cold (empty insights cache) and the recompute after an ingestion, on SpatiaLite and PostGIS, with the insights
cache in the database (CHANNEL_LAYER=memory) or in Redis.

    .venv/bin/python bench/insights/run.py [--projects 50000] [--only spatialite postgis] [--cache database redis]
        [--env DATA_VERSION_PUSH=false]

Results are appended to var/bench/insights/results.jsonl and printed as a table for the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.http import run as http  # noqa: E402
from bukaamanzi.lib.redis_server import start_private_redis  # noqa: E402

OUT = ROOT / "var" / "bench" / "insights"
PORT = 8311
PROVINCES = ("EC", "FS", "GT", "KZN", "LIM", "MP", "NW", "NC", "WC")


def django_step(database_url: str, env: dict[str, str], *args: str) -> str:
    return subprocess.run([http.PY, str(ROOT / "bench" / "insights" / "seed.py"), *args], cwd=ROOT,
                          env={**env, "DATABASE_URL": database_url}, check=True, capture_output=True,
                          text=True).stdout


def prepare(database_url: str, projects: int) -> None:
    env = http.ours_env(database_url)
    for command in (["manage.py", "migrate", "--no-input", "-v", "0"], ["manage.py", "load_municipalities"],
                    ["manage.py", "createcachetable"], ["manage.py", "collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([http.PY, *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    django_step(database_url, env, "seed", str(projects))


def get_seconds(path: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=120) as answer:
        answer.read()
        assert answer.status == 200, path
    return time.perf_counter() - started


def run(database: str, database_url: str, cache: str, args: argparse.Namespace) -> dict[str, object]:
    extra = {"API_CACHE_SECONDS": "60"}
    redis = None
    if cache == "redis":
        socket = Path(tempfile.mkdtemp(prefix="ba-bench-redis-")) / "redis.sock"
        redis = start_private_redis(socket)
        extra.update(CHANNEL_LAYER="redis", REDIS_URL=f"unix://{socket}")
    env = http.ours_env(database_url, **extra, **args.env)
    setup = f"{database}-{cache}" + "".join(f", {name}={value}" for name, value in args.env.items())
    command = http.serve["page_server_command"](PORT, workers=1)
    try:
        with http.started(f"insights-{setup}", PORT, command, env, ROOT, "/api/v1/health",
                          "postgres" if database == "postgis" else "") as server:
            cold, recompute, warm_up, after_warm_up = [], [], [], []
            for _ in range(args.rounds):
                # Cold: nothing kept for the new data version, in the shared cache or the server's own copies.
                django_step(database_url, env, "clear")
                django_step(database_url, env, "ingest")
                cold.append(get_seconds("/insights/"))
                # Lazily after an ingestion: the first visitors of the national and the nine province pages.
                django_step(database_url, env, "ingest")
                recompute.append(sum(get_seconds(path) for path in ("/insights/",
                                                                     *(f"/insights/{c}/" for c in PROVINCES))))
                # With the worker's warm-up after the run: its time, then the first visitor's.
                django_step(database_url, env, "ingest")
                out = django_step(database_url, env, "warm")
                warm_up.append(float(out.split("WARM ", 1)[1].split()[0]))
                after_warm_up.append(get_seconds("/insights/"))
            settings = http.Settings(seconds=args.seconds, warmup=args.warmup, connections=args.connections)
            paths = {}
            for name, path in (("about", "/about/"), ("insights_warm", "/insights/")):
                paths[name] = OUT / f"{name}.paths"
                paths[name].write_text(path + "\n")
            # Alternated, twice each, so that a neighbour's burst of CPU does not land on one side only.
            measured: dict[str, list[float]] = {"about": [], "insights_warm": []}
            cpu: dict[str, list[float]] = {"about": [], "insights_warm": []}
            for _ in range(2):
                for name in measured:
                    record = http.measure(settings, setup, name, server, paths[name], sink=OUT / "wrk.jsonl")
                    measured[name].append(float(record["p95_ms"]))  # type: ignore[arg-type]
                    cpu[name].append(float(record["server_cpu_ms_per_request"]))  # type: ignore[arg-type]
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
    about, warm = statistics.median(measured["about"]), statistics.median(measured["insights_warm"])
    result: dict[str, object] = {
        "setup": setup, "projects": args.projects,
        "cold_s": [round(s, 3) for s in cold], "recompute_all_pages_s": [round(s, 3) for s in recompute],
        "warm_up_task_s": warm_up, "first_visit_after_warm_up_s": [round(s, 3) for s in after_warm_up],
        "about_p95_ms": measured["about"], "insights_warm_p95_ms": measured["insights_warm"],
        "warm_over_about": round(warm / about, 2),
        "about_cpu_ms": cpu["about"], "insights_warm_cpu_ms": cpu["insights_warm"],
    }
    with (OUT / "results.jsonl").open("a") as lines:
        lines.write(json.dumps(result) + "\n")
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=50_000)
    parser.add_argument("--only", nargs="*", default=["spatialite", "postgis"], choices=["spatialite", "postgis"])
    parser.add_argument("--cache", nargs="*", default=["database", "redis"], choices=["database", "redis"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="settings for the page server, e.g. DATA_VERSION_PUSH=false (named in the results)")
    args = parser.parse_args()
    args.env = dict(pair.split("=", 1) for pair in args.env)
    OUT.mkdir(parents=True, exist_ok=True)
    http.OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for database in args.only:
        url = f"spatialite:///{OUT / 'insights.sqlite3'}" if database == "spatialite" else http.postgis_url()
        prepare(url, args.projects)
        for cache in args.cache:
            results.append(run(database, url, cache, args))
    print("\n| set-up | cold national page (s) | after an ingestion, lazily: all 10 pages (s) | warm-up task (s) / "
          "first visit after it (s) | p95 About / insights warm (ms) | ratio | server CPU per request About / "
          "insights (ms) |\n|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['setup']} | {', '.join(map(str, r['cold_s']))} | "  # type: ignore[arg-type]
              f"{', '.join(map(str, r['recompute_all_pages_s']))} | "  # type: ignore[arg-type]
              f"{', '.join(map(str, r['warm_up_task_s']))} / "  # type: ignore[arg-type]
              f"{', '.join(map(str, r['first_visit_after_warm_up_s']))} | "  # type: ignore[arg-type]
              f"{r['about_p95_ms']} / {r['insights_warm_p95_ms']} | {r['warm_over_about']}× | "
              f"{r['about_cpu_ms']} / {r['insights_warm_cpu_ms']} |")


if __name__ == "__main__":
    main()
