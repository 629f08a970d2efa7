"""Ingest N generated Municipal Money projects from saved responses, then the same again, and time both.

    scripts/pg.sh start   # prints the socket URL of the private cluster
    DATABASE_URL=postgis://postgres@/bukaamanzi_bench_ingestion?host=/work/main/var/pg \
        .venv/bin/python bench/ingestion/treasury.py --projects 10000 --page-size 500

Steps: migrate and load the reference municipalities (idempotent), delete earlier Municipal Money projects,
write N projects as pages of the projects endpoint (the real response shape, three budget rows each, spread over
the 257 municipalities) into a temporary directory, then time:

1. the first run (every project created, with its budgets and change-log rows);
2. the re-run with nothing changed, forced past the whole-harvest hash, so that every project goes through the
   per-project content-hash comparison (the honest "unchanged" cost);
3. the plain re-run, which stops at the whole-harvest hash (`no_change`);
4. a run where 1% of the projects changed one field.

A private redis-server is started (unless --no-redis) so that the relay sends every change-log row to the channel
layer after each batch commits, as it does in production. Prints one JSON line per step. Bounded: well under
a minute for 10,000 projects.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")

from bukaamanzi.lib.redis_server import start_private_redis  # noqa: E402  (needs ROOT on the path)

FUNCTIONS = ("Water Distribution", "Water Storage", "Waste Water Management", "Sewerage", "Water Management")
ASSET_CLASSES = ("Water Supply Infrastructure", "Sanitation Infrastructure")
PHASES = (("Audited Outcome", "2022/2023"), ("Full Year Forecast", "2023/2024"), ("Budget year", "2024/2025"))


def project(index: int, code: str, rng: random.Random, changed: bool = False) -> dict:
    has_point = rng.random() < 0.7
    return {
        "id": 1_000_000 + index,
        "expenditure": [
            {"amount": f"{rng.randint(50_000, 90_000_000)}.{rng.randint(0, 99):02d}",
             "budget_phase": {"code": "", "name": phase}, "financial_year": {"budget_year": year}}
            for phase, year in PHASES
        ],
        "geography": {"geo_level": "municipality", "geo_code": code, "name": code, "category": "B"},
        "latest_implementation_year": {"budget_year": "2024/2025"},
        "function": FUNCTIONS[index % len(FUNCTIONS)],
        "project_description": f"Bench water project {index}: pipeline, reservoir and pump station works",
        "project_number": f"BENCH-{index:06d}",
        "project_type": rng.choice(("New", "Renewal", "Upgrading")),
        "mtsf_service_outcome": "An efficient, competitive and responsive economic infrastructure network",
        "iudf": "Integrated Infrastructure",
        "own_strategic_objectives": "Basic service delivery",
        "asset_class": ASSET_CLASSES[index % len(ASSET_CLASSES)],
        "asset_subclass": "Distribution",
        "ward_location": f"Ward {index % 40 + 1}{' (moved)' if changed else ''}",
        "longitude": round(rng.uniform(18.0, 31.0), 5) if has_point else 0.0,
        "latitude": round(rng.uniform(-34.0, -23.0), 5) if has_point else 0.0,
    }


def write_pages(directory: Path, codes: list[str], total: int, page_size: int, changed_every: int = 0) -> None:
    for old in directory.glob("*.json"):
        old.unlink()
    rng = random.Random(20261124)
    rows = [project(i, codes[i % len(codes)], rng, changed=bool(changed_every) and i % changed_every == 0)
            for i in range(total)]
    for page_number, start in enumerate(range(0, total, page_size)):
        offset_next = start + page_size
        page = {
            "count": total,
            "next": f"/api/v1/infrastructure/projects/?limit={page_size}&offset={offset_next}"
            if offset_next < total else None,
            "previous": None,
            "results": rows[start : start + page_size],
        }
        (directory / f"projects_{page_number:04d}.json").write_text(json.dumps(page))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--no-redis", action="store_true",
                        help="do not start a private Redis: the relay then fails fast and leaves changes unsent")
    arguments = parser.parse_args()
    redis = None if arguments.no_redis else start_redis()
    try:
        run_steps(arguments)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)


def start_redis() -> subprocess.Popen:
    """A private redis-server, so that the relay really sends each batch's change-log rows (as in production)."""
    socket = Path(tempfile.mkdtemp(prefix="bench-redis-")) / "redis.sock"
    process = start_private_redis(socket)
    os.environ["REDIS_URL"] = f"unix://{socket}"
    return process


def run_steps(arguments: argparse.Namespace) -> None:

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from changelog.models import DataChangeLog
    from ingestion.models import IngestionRun
    from ingestion.services import ingestion_run_now
    from municipalities.models import Municipality
    from projects.models import Project

    call_command("migrate", verbosity=0)
    call_command("load_municipalities", verbosity=0)
    Project.objects.filter(source="municipal_money").delete()
    # Earlier bench runs may have left change-log rows unsent (no Redis then); the relay must not send them here.
    DataChangeLog.objects.all().delete()
    IngestionRun.objects.filter(source="municipal_money").delete()
    codes = sorted(Municipality.objects.current().values_list("code", flat=True))

    def timed(label: str, directory: Path, force: bool) -> None:
        started = time.perf_counter()
        run = ingestion_run_now(source="municipal_money", triggered_by="bench", from_path=directory, force=force)
        seconds = time.perf_counter() - started
        print(json.dumps({
            "step": label, "database": connection.vendor, "projects": arguments.projects, "status": run.status,
            "created": run.created_count, "updated": run.updated_count, "unchanged": run.unchanged_count,
            "failed": run.failed_count, "seconds": round(seconds, 2),
            "projects_per_second": round(arguments.projects / seconds, 1),
        }), flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-treasury-") as name:
        directory = Path(name)
        write_pages(directory, codes, arguments.projects, arguments.page_size)
        timed("first run", directory, force=False)
        timed("unchanged re-run (per-project hashes)", directory, force=True)
        timed("unchanged re-run (whole-harvest hash)", directory, force=False)
        write_pages(directory, codes, arguments.projects, arguments.page_size, changed_every=100)
        timed("1% changed", directory, force=False)


if __name__ == "__main__":
    main()
