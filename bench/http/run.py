"""The HTTP load test: our API and pages, and the FastAPI peer (../shared/peer/), driven by wrk on this machine.

    .venv/bin/python bench/http/run.py                  # everything (about 25 minutes on 2 cores)
    .venv/bin/python bench/http/run.py --only spatialite-2 --seconds 10

Set-ups: ours on SpatiaLite and on PostGIS, with 1 and 2 processes, each served the way `make run` serves pages
(scripts/serve.py's `page_server_command`); the peer with uvicorn, 1 and 2 workers, on SQLite. Both hold the same
50,000 projects (bench/api/seed.py, then bench/http/peer/seed_peer.py copies them). Scenarios are path files: wrk
asks for a random line of one (bench/http/paths.lua) over 16 connections, after a warm-up. Ours and the peer are
measured one after the other for each scenario, so a noisy minute hits both.

Each figure comes with the server's CPU per request: utime + stime of every process of the server (workers
included, read with psutil) before and after, and on PostGIS the database's processes apart.
Results: var/bench/http/results.jsonl (one JSON line per measurement) and var/bench/http/summary.md (the table
the README shows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import runpy
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench" / "http"
PY = str(ROOT / ".venv" / "bin" / "python")
LUA = str(Path(__file__).with_name("paths.lua"))
PEER = Path(__file__).with_name("peer")
SOUTH_AFRICA = (16.5, -34.8, 32.9, -22.2)
OURS_PORT, OURS_NOCACHE_PORT, PEER_PORT, BASELINE_PORT, BASELINE_NOCACHE_PORT = 8301, 8302, 8303, 8304, 8305
PG_DATABASE = "bukaamanzi_bench_http"


# scripts/serve.py is a script, not a module of a package: its functions are read without running main().
serve = runpy.run_path(str(ROOT / "scripts" / "serve.py"))


# --- Data -------------------------------------------------------------------------------------------------


def ours_env(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "CHANNEL_LAYER": "memory", "DEBUG": "false",
            "LOG_LEVEL": "WARNING", **extra}


def prepare_ours(database_url: str, projects: int) -> None:
    env = ours_env(database_url)
    for command in (["manage.py", "migrate", "--no-input", "-v", "0"], ["manage.py", "load_municipalities"],
                    ["bench/api/seed.py", str(projects)], ["manage.py", "collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([PY, *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def postgis_url() -> str:
    url = subprocess.run(["scripts/pg.sh", "start"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    host = url.strip().split("host=", 1)[1]
    subprocess.run(
        [PY, "-c", "import psycopg, sys\n"
         "with psycopg.connect(host=sys.argv[1], user='postgres', dbname='postgres', autocommit=True) as c:\n"
         "    if not c.execute('SELECT 1 FROM pg_database WHERE datname=%s', [sys.argv[2]]).fetchone():\n"
         "        c.execute('CREATE DATABASE ' + sys.argv[2])", host, PG_DATABASE], check=True)
    return f"postgis://postgres@/{PG_DATABASE}?host={host}"


def read_ids(database_url: str) -> tuple[list[str], list[str]]:
    """2,000 random project ids and every municipality code that has projects, from our database."""
    script = (
        "import django, json; django.setup()\n"
        "from projects.models import Project\n"
        "from municipalities.models import Municipality\n"
        "ids = [str(i) for i in Project.objects.order_by('id').values_list('id', flat=True)]\n"
        "codes = list(Municipality.objects.filter(projects__isnull=False).distinct().values_list('code', flat=True))\n"
        "print(json.dumps([ids, codes]))"
    )
    env = ours_env(database_url, DJANGO_SETTINGS_MODULE="bukaamanzi.settings")
    ids, codes = json.loads(subprocess.run([PY, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                                           text=True).stdout)
    rng = random.Random(2026)
    return rng.sample(ids, 2000), sorted(codes)


def viewport(rng: random.Random) -> str:
    """A map viewport of about 1024 x 768 px at a random zoom from 5 (the country) to 12 (a town)."""
    zoom = rng.randint(5, 12)
    width = 360 / 2**zoom * 4
    height = width * 0.75
    west, south, east, north = SOUTH_AFRICA
    lng = rng.uniform(west, east - width) if width < east - west else west
    lat = rng.uniform(south, north - height) if height < north - south else south
    return f"bbox={lng:.5f},{lat:.5f},{lng + width:.5f},{lat + height:.5f}&zoom={zoom}"


def write_paths(ids: list[str], codes: list[str], projects: int) -> dict[str, Path]:
    """One path file per scenario; the peer's list wants a trailing slash (without it, it answers 307)."""
    rng = random.Random(7)
    pages = range(1, projects // 100 + 1)
    files = {
        "detail": [f"/api/v1/projects/{i}" for i in ids],
        "list_100": [f"/api/v1/projects?limit=100&page={page}" for page in pages],
        "map": [f"/api/v1/map/projects?{viewport(rng)}" for _ in range(2000)],
        "page_home": ["/"],
        "page_project": [f"/projects/{i}/" for i in ids],
        "page_municipality": [f"/municipalities/{code}/" for code in codes],
        "peer_detail": [f"/api/v1/projects/{i}" for i in ids],
        "peer_list_100": [f"/api/v1/projects/?limit=100&page={page}" for page in pages],
    }
    paths = {}
    for name, lines in files.items():
        paths[name] = OUT / f"{name}.paths"
        paths[name].write_text("\n".join(lines) + "\n")
    return paths


# --- Servers ----------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    database_processes: str = ""  # a process name whose CPU counts apart (postgres)

    def tree(self) -> list[psutil.Process]:
        """The server process and all its descendants (workers)."""
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU of these processes so far (a process that has gone counts nothing)."""
    total = 0.0
    for process in processes:
        with suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def processes_named(name: str) -> list[psutil.Process]:
    return [process for process in psutil.process_iter(["name"]) if name and process.info["name"] == name]


def wait_until_up(server: Server, path: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"{server.name} stopped at start-up; see {server.log}")
        with suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as answer:
            if answer.status == 200:
                return
        time.sleep(0.3)
    sys.exit(f"{server.name} did not answer on port {server.port}; see {server.log}")


@contextmanager
def started(name: str, port: int, command: list[str], env: dict[str, str], cwd: Path, probe: str,
            database_processes: str = "") -> Iterator[Server]:
    log = OUT / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(name, port, process, log, database_processes)
    try:
        wait_until_up(server, probe)
        yield server
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_ours(name: str, port: int, database_url: str, processes: int, cache_seconds: int,
               database_processes: str, extra_env: dict[str, str] | None = None) -> contextmanager:
    command = serve["page_server_command"](port, workers=processes)
    env = ours_env(database_url, API_CACHE_SECONDS=str(cache_seconds), **(extra_env or {}))
    return started(name, port, command, env, ROOT, "/api/v1/health", database_processes)


def start_peer(port: int, processes: int) -> contextmanager:
    command = ["bash", str(PEER / "serve.sh"), str(port), str(processes), str(OUT / "peer.db")]
    return started(f"peer-{processes}", port, command, dict(os.environ), PEER, "/api/v1/projects/?limit=1")


# --- Measuring --------------------------------------------------------------------------------------------


@dataclass
class Settings:
    seconds: int
    warmup: int
    connections: int
    threads: int = 2
    results: list[dict[str, object]] = field(default_factory=list)


def wrk(server: Server, paths: Path, seconds: int, connections: int, threads: int) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", LUA,
               f"http://127.0.0.1:{server.port}"]
    output = subprocess.run(command, env={**os.environ, "WRK_PATHS": str(paths)}, check=True, capture_output=True,
                            text=True).stdout
    line = next((text for text in output.splitlines() if text.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"wrk printed no result:\n{output}")
    return json.loads(line.removeprefix("RESULT "))


def measure(settings: Settings, setup: str, scenario: str, server: Server, paths: Path,
            sink: Path = OUT / "results.jsonl") -> dict[str, object]:
    wrk(server, paths, settings.warmup, settings.connections, settings.threads)
    processes = server.tree()
    database = processes_named(server.database_processes)
    before, database_before = cpu_seconds(processes), cpu_seconds(database)
    result = wrk(server, paths, settings.seconds, settings.connections, settings.threads)
    after, database_after = cpu_seconds(processes), cpu_seconds(database)
    requests = max(int(result["requests"]), 1)
    record: dict[str, object] = {
        "setup": setup, "scenario": scenario, "server": server.name, **result,
        "errors": sum(int(v) for k, v in result.items() if k.startswith("errors_")),
        "bytes_per_response": round(float(result["bytes"]) / requests),
        "server_cpu_ms_per_request": round((after - before) * 1000 / requests, 3),
        "database_cpu_ms_per_request": round((database_after - database_before) * 1000 / requests, 3)
        if server.database_processes else None,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    settings.results.append(record)
    with sink.open("a") as lines:
        lines.write(json.dumps(record) + "\n")
    print(f"{setup:14} {scenario:20} {server.name:22} {result['rps']:8.1f} req/s  p95 {result['p95_ms']:7.1f} ms  "
          f"cpu {record['server_cpu_ms_per_request']} ms/req  errors {record['errors']}", flush=True)
    return record


OURS_SCENARIOS = ("detail", "list_100_nocache", "list_100", "map", "page_home", "page_project", "page_municipality")


def run_setup(settings: Settings, database: str, database_url: str, processes: int, paths: dict[str, Path],
              with_peer: bool, scenarios: tuple[str, ...] = OURS_SCENARIOS,
              baseline_env: dict[str, str] | None = None) -> None:
    """Each scenario on ours, then (with `baseline_env`) on ours started with those settings, then on the peer."""
    setup = f"{database}-{processes}"
    database_processes = "postgres" if database == "postgis" else ""
    with (start_ours(f"ours-{setup}", OURS_PORT, database_url, processes, 60, database_processes) as ours,
          start_ours(f"ours-{setup}-nocache", OURS_NOCACHE_PORT, database_url, processes, 0,
                     database_processes) as ours_nocache,
          (start_ours(f"ours-{setup}-baseline", BASELINE_PORT, database_url, processes, 60, database_processes,
                      baseline_env) if baseline_env else nullcontext()) as baseline,
          (start_ours(f"ours-{setup}-nocache-baseline", BASELINE_NOCACHE_PORT, database_url, processes, 0,
                      database_processes, baseline_env) if baseline_env else nullcontext()) as baseline_nocache,
          (start_peer(PEER_PORT, processes) if with_peer else nullcontext()) as peer):
        if database == "postgis":
            print(f"{setup}: {listeners(database_url)} processes hear the data version pushed", flush=True)
        for scenario in scenarios:
            server = ours_nocache if scenario == "list_100_nocache" else ours
            measure(settings, setup, scenario, server, paths[scenario.removesuffix("_nocache")])
            other = baseline_nocache if scenario == "list_100_nocache" else baseline
            if other is not None:
                measure(settings, setup, scenario, other, paths[scenario.removesuffix("_nocache")])
            if peer is not None and scenario in ("detail", "list_100_nocache"):
                peer_scenario = scenario.removesuffix("_nocache")
                measure(settings, setup, peer_scenario, peer, paths[f"peer_{peer_scenario}"])


def listeners(database_url: str) -> int:
    """How many processes listen for the data version (projects/dataversion.py): one per page process, unless
    DATA_VERSION_PUSH is false. Asked after a request to each server has started their listeners."""
    host = database_url.split("host=", 1)[1]
    script = ("import psycopg, sys\n"
              "with psycopg.connect(host=sys.argv[1], user='postgres', dbname='postgres') as c:\n"
              "    print(c.execute(\"SELECT count(*) FROM pg_stat_activity WHERE application_name = "
              "'bukaamanzi data version listener'\").fetchone()[0])")
    return int(subprocess.run([PY, "-c", script, host], check=True, capture_output=True, text=True).stdout)


def server_commands(port: int) -> dict[str, list[str]]:
    """The servers the page process could run on, one process each: ASGI (daphne, uvicorn) and WSGI."""
    return {
        "daphne": [PY, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "bukaamanzi.asgi:application"],
        "uvicorn": [PY, "-m", "uvicorn", "--port", str(port), "--no-access-log", "--log-level", "warning",
                    "--loop", "uvloop", "--http", "httptools", "bukaamanzi.asgi:application"],
        "gunicorn-gthread": [PY, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "gthread",
                             "--threads", "4", "--log-level", "warning", "bukaamanzi.wsgi:application"],
        "granian-wsgi": serve["page_server_command"](port, workers=1),
    }


def compare_servers(settings: Settings, database_url: str, paths: dict[str, Path]) -> None:
    """The server lever alone: the same views, data and one process, on each server."""
    for name, command in server_commands(OURS_PORT).items():
        env = ours_env(database_url, API_CACHE_SECONDS="0")
        with started(f"server-{name}", OURS_PORT, command, env, ROOT, "/api/v1/health") as server:
            for scenario in ("detail", "list_100"):
                measure(settings, "servers-1", scenario, server, paths[scenario])


# --- Summary ----------------------------------------------------------------------------------------------


def summary(results: list[dict[str, object]]) -> str:
    """The README's table: each of our figures beside the peer's with the same process count."""
    peer = {(str(r["setup"]).split("-")[1], r["scenario"]): r for r in results if str(r["server"]).startswith("peer")}
    lines = ["| set-up | scenario | ours req/s (p95 ms) | CPU ms/req | peer req/s (p95 ms) | peer CPU ms/req | "
             "ours / peer |", "|---|---|---|---|---|---|---|"]
    for r in results:
        if str(r["server"]).startswith("peer"):
            continue
        processes = str(r["setup"]).split("-")[1]
        cpu = f"{r['server_cpu_ms_per_request']}"
        if r["database_cpu_ms_per_request"] is not None:
            cpu += f" + {r['database_cpu_ms_per_request']} db"
        match = peer.get((processes, str(r["scenario"]).removesuffix("_nocache")))
        theirs, their_cpu, ratio = "", "", ""
        if match:
            theirs = f"{match['rps']:.0f} ({match['p95_ms']:.0f})"
            their_cpu = f"{match['server_cpu_ms_per_request']}"
            ratio = f"{float(r['rps']) / float(match['rps']):.2f}"
        errors = f", {r['errors']} errors" if r["errors"] else ""
        label = f"1 process, {str(r['server']).removeprefix('server-')}" if r["setup"] == "servers-1" else r["setup"]
        if str(r["server"]).endswith("-baseline"):
            label = f"{label}, baseline"
        lines.append(f"| {label} | {r['scenario']} | {r['rps']:.0f} ({r['p95_ms']:.0f}){errors} | {cpu} | "
                     f"{theirs} | {their_cpu} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", nargs="*", default=[], help="set-ups such as spatialite-1 postgis-2")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--scenarios", nargs="*", default=list(OURS_SCENARIOS), choices=OURS_SCENARIOS,
                        help="of ours (the peer runs beside detail and list_100_nocache)")
    parser.add_argument("--baseline-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="also measure each scenario (but the cache-off list) on ours started with these "
                        "settings, right after ours, e.g. DATA_VERSION_PUSH=false")
    parser.add_argument("--servers", action="store_true", help="first compare page servers (daphne, uvicorn, "
                        "gunicorn, granian) on SpatiaLite, one process, response cache off")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.jsonl").unlink(missing_ok=True)

    spatialite_url = f"spatialite:///{OUT / 'ours.sqlite3'}"
    prepare_ours(spatialite_url, args.projects)
    setups = [("spatialite", spatialite_url)]
    if not args.only or any(name.startswith("postgis") for name in args.only):
        postgres = postgis_url()
        prepare_ours(postgres, args.projects)
        setups.append(("postgis", postgres))
    ids, codes = read_ids(spatialite_url)
    paths = write_paths(ids, codes, args.projects)
    with_peer = not args.no_peer
    if with_peer:
        subprocess.run(["bash", str(PEER / "setup.sh")], check=True)
        subprocess.run([str(OUT.parent / "peer-venv" / "bin" / "python"), str(PEER / "seed_peer.py"),
                        str(OUT / "ours.sqlite3"), str(OUT / "peer.db")], check=True, stdout=subprocess.DEVNULL)

    settings = Settings(args.seconds, args.warmup, args.connections)
    if args.servers:
        compare_servers(settings, spatialite_url, paths)
    for processes in (1, 2):
        for database, url in setups:
            setup = f"{database}-{processes}"
            if args.only and setup not in args.only:
                continue
            # The peer runs on SQLite only: it is measured beside our SpatiaLite set-ups, and our PostGIS
            # figures are compared with those.
            run_setup(settings, database, url, processes, paths, with_peer and database == "spatialite",
                      tuple(args.scenarios), dict(pair.split("=", 1) for pair in args.baseline_env))
    table = summary(settings.results)
    (OUT / "summary.md").write_text(table + "\n")
    print("\n" + table)


if __name__ == "__main__":
    main()
