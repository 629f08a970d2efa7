"""Data-quality tables and the completion forecast, in-process, over `--projects` seeded projects.

    .venv/bin/python bench/insights/quality.py --database spatialite   # var/bench/quality.sqlite3
    .venv/bin/python bench/insights/quality.py --database postgis      # scripts/pg.sh's cluster, its own database

The database is the bench's own, never the development or test one; `--reseed` starts it afresh, otherwise a
database holding the seeded projects is reused.

Not timed (the seeding): migrate, load the reference municipalities, bulk-insert projects spread over the 257
municipalities and the two real sources with each field missing or contradictory in a fixed share of rows (no
location 30 %, no budget 20 %, no end date 25 %, no contractor 50 %, status unknown 10 %, spending above budget
5 %, 100 % but not completed 3 %, end before start 2 %, last fetched 0 to 90 days ago), and for `--histories`
projects 24 monthly progress entries in the change log. On PostGIS, ANALYZE after.

Timed (`--repeat` times each, uncached: the figure as computed on a new data version): the quality table per source
and per municipality (`insights.quality.quality_rows`), a district's summary (`quality_total`), and the forecast of
one project with 24 progress entries (`project_forecast`). Prints the median and worst wall time and the queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.databases import bench_database_url  # noqa: E402

SEED = 20261207
PREFIX = "BENCHQ-"
BATCH = 5000


def seed(count: int, histories: int, rng: random.Random) -> None:
    from django.contrib.gis.geos import Point
    from django.db import transaction
    from django.utils import timezone

    from changelog.models import ChangeSource, ChangeType, DataChangeLog, EntityType
    from municipalities.models import Municipality
    from projects.models import Project, Status

    municipalities = list(Municipality.objects.current())
    now = timezone.now()
    statuses = [Status.IDENTIFICATION, Status.PREPARATION, Status.IMPLEMENTATION, Status.COMPLETED]
    projects = []
    for n in range(count):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(700))
        budget = Decimal(rng.randrange(100_000, 50_000_000))
        progress = Decimal(rng.randrange(0, 100))
        status = rng.choice(statuses)
        if rng.random() < 0.03:
            progress, status = Decimal(100), Status.IMPLEMENTATION
        projects.append(Project(
            source=rng.choice(["municipal_money", "dws"]), external_id=f"{PREFIX}{n:07d}",
            municipality=rng.choice(municipalities), name=f"Bench water project {n}",
            status=Status.UNKNOWN if rng.random() < 0.10 else status,
            start_date=start,
            end_date=None if rng.random() < 0.25 else start + dt.timedelta(days=rng.choice([-30, 400, 900])
                                                                            if rng.random() < 0.02 else 600),
            location=None if rng.random() < 0.30 else Point(18 + rng.random() * 12, -34 + rng.random() * 12,
                                                            srid=4326),
            budget_allocated=None if rng.random() < 0.20 else budget,
            budget_spent=budget * Decimal("1.2") if rng.random() < 0.05 else budget / 3,
            progress_percentage=progress, contractor="" if rng.random() < 0.5 else "Bench Contractors",
            last_scraped_at=now - dt.timedelta(days=rng.randrange(90)),
        ))
    with transaction.atomic():
        for i in range(0, count, BATCH):
            Project.objects.bulk_create(projects[i:i + BATCH])
    entries = []
    for project in projects[:histories]:
        for month in range(24):
            entries.append(DataChangeLog(
                entity_type=EntityType.PROJECT, entity_id=str(project.pk), project_id=str(project.pk),
                change_type=ChangeType.UPDATED, source=ChangeSource.ETL_PIPELINE, notification_sent=True,
                alerts_matched=True, new_values={"progress_percentage": str(min(99, month * 3 + rng.randrange(3)))}))
    with transaction.atomic():
        for i in range(0, len(entries), BATCH):
            DataChangeLog.objects.bulk_create(entries[i:i + BATCH])
    # created_at is stamped on insert: spread each history over two years, a month apart.
    for project in projects[:min(histories, 50)]:
        for month, pk in enumerate(DataChangeLog.objects.for_entity(EntityType.PROJECT, project.pk)
                                   .order_by("pk").values_list("pk", flat=True)):
            DataChangeLog.objects.filter(pk=pk).update(created_at=now - dt.timedelta(days=30 * (24 - month)))


def timed(repeat: int, run: Any) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            run()
            times.append((time.perf_counter() - began) * 1000)
        queries = len(captured.captured_queries)
    return {"median_ms": round(statistics.median(times), 1), "worst_ms": round(max(times), 1), "queries": queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--projects", type=int, default=50_000)
    parser.add_argument("--histories", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reseed", action="store_true")
    arguments = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database_url(arguments.database, "quality", arguments.reseed)
    os.environ["CHANNEL_LAYER"] = "memory"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from insights.forecast_project import project_forecast
    from insights.quality import measured_at, quality_rows, quality_total, real_projects
    from municipalities.models import Municipality
    from municipalities.services import municipality_load_reference
    from projects.models import Project

    call_command("migrate", verbosity=0)
    municipality_load_reference()
    seeded = Project.objects.filter(external_id__startswith=PREFIX).count()
    if seeded not in (0, arguments.projects):
        raise SystemExit(f"the bench database holds {seeded} projects, not {arguments.projects}: run with --reseed")
    if not seeded:
        seed(arguments.projects, arguments.histories, random.Random(SEED))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    now = measured_at()
    district = Municipality.objects.get(code="DC1")  # West Coast: a district, so its locals' projects too
    project = Project.objects.filter(external_id=f"{PREFIX}0000000").get()
    results = {
        "quality per source": timed(arguments.repeat, lambda: quality_rows(real_projects(), "source", now)),
        "quality per municipality": timed(arguments.repeat,
                                          lambda: quality_rows(real_projects(), "municipality", now)),
        "district summary": timed(arguments.repeat,
                                  lambda: quality_total(real_projects().in_municipality(district), now)),
        "forecast, 24 entries": timed(arguments.repeat, lambda: project_forecast(project.pk, project.end_date)),
    }
    print(f"\n{connection.vendor}, {arguments.projects:,} projects, load {os.getloadavg()[0]:.1f}\n")
    print("| figure | median ms | worst ms | queries |\n|---|---|---|---|")
    for name, figures in results.items():
        print(f"| {name} | {figures['median_ms']} | {figures['worst_ms']} | {figures['queries']} |")


if __name__ == "__main__":
    main()
