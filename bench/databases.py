"""A bench's own database: a SpatiaLite file under var/bench/, or a database in the private PostGIS cluster.

Shared by the benches that seed their own data (bench/reports/nearby.py, bench/insights/quality.py,
bench/open311/read.py), so that each asks for `bench_database_url(kind, name, reseed)` instead of repeating it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spatialite_url(path: Path, reseed: bool) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if reseed:
        for found in path.parent.glob(path.name + "*"):  # the file and its WAL and shared memory
            found.unlink()
    return f"spatialite:///{path}"


def postgis_url(database: str, reseed: bool) -> str:
    """`database` in the private cluster (started when it is not running), created when missing."""
    url = subprocess.run(["scripts/pg.sh", "start"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    host = url.strip().split("host=", 1)[1]
    import psycopg

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as connection:
        if reseed:
            connection.execute(f"DROP DATABASE IF EXISTS {database}")
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            connection.execute(f"CREATE DATABASE {database}")
    return f"postgis://postgres@/{database}?host={host}"


def bench_database_url(kind: str, name: str, reseed: bool) -> str:
    """`kind` "spatialite" (var/bench/<name>.sqlite3) or "postgis" (database bukaamanzi_bench_<name>)."""
    if kind == "spatialite":
        return spatialite_url(ROOT / "var" / "bench" / f"{name}.sqlite3", reseed)
    return postgis_url(f"bukaamanzi_bench_{name}", reseed)
