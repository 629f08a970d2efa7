"""Open311 `GET requests` at its largest (1,000 requests a call) and one request, in-process (django.test.Client:
no server, no network), over a seeded database of its own.

    .venv/bin/python bench/open311/read.py --database spatialite    # var/bench/open311.sqlite3
    .venv/bin/python bench/open311/read.py --database postgis       # its own database in scripts/pg.sh's cluster

Not timed (the seeding, reused when the database already holds `--reports`): migrate, then bulk-insert published
reports spread evenly over the last 180 days around Cape Town, 90 % problems, states mixed, 40 % with a photo row
(names only: the answer reads rows, not files), a third on a project; on PostGIS, VACUUM ANALYZE after, as
autovacuum would. Timed: `--calls` calls of each path after
5 untimed ones; p50 and p95 of the wall time, the queries per call and the body's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.databases import bench_database_url  # noqa: E402

SEED = 20261207
PATHS = ["/open311/v2/requests.json", "/open311/v2/requests.xml",
         "/open311/v2/requests.json?status=open&service_code=issue", "/open311/v2/requests/{id}.json"]


def seed(count: int) -> dict[str, object]:
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from municipalities.services import municipality_load_reference
    from projects.models import Project
    from reports.models import Report, ReportPhoto

    existing = Report.objects.count()
    if existing == count:
        return {"reports": existing, "reused": True}
    if existing:
        raise SystemExit(f"the bench database holds {existing} reports, not {count}: run with --reseed")
    municipality_load_reference()
    from municipalities.models import Municipality

    cpt = Municipality.objects.get(code="CPT")
    projects = Project.objects.bulk_create([
        Project(source="bench", external_id=f"B{n}", municipality=cpt, name=f"Bench project {n}",
                project_type="Water supply", status="implementation") for n in range(50)])
    rng = random.Random(SEED)
    now = timezone.now()
    states = ["open"] * 6 + ["acknowledged", "in_progress", "fixed", "not_fixed"]
    batch = []
    for n in range(count):
        point = Point(18.42 + rng.gauss(0, 0.1), -33.92 + rng.gauss(0, 0.1), srid=4326)
        issue = rng.random() < 0.9
        batch.append(Report(
            title=f"Leak {n}", description=f"Water running in the street, report {n}.", location=point,
            public_location=point, report_type="issue" if issue else "completion",
            state=rng.choice(states) if issue else "noted", project=rng.choice(projects) if n % 3 == 0 else None,
            address=f"{n} Main Road, Cape Town"))
    Report.objects.bulk_create(batch, batch_size=2000)
    # created_at is auto_now_add: spread it over 180 days afterwards, in one statement per day.
    ids = list(Report.objects.order_by("pk").values_list("pk", flat=True))
    per_day = max(1, len(ids) // 180)
    for day in range(0, len(ids), per_day):
        Report.objects.filter(pk__in=ids[day:day + per_day]).update(
            created_at=now - dt.timedelta(days=day // per_day, minutes=rng.randrange(1440)))
    ReportPhoto.objects.bulk_create([ReportPhoto(report_id=pk, image=f"reports/bench/{pk}.jpg", width=800,
                                                 height=600) for pk in ids if rng.random() < 0.4],
                                    batch_size=2000)
    from django.db import connection

    if connection.vendor == "postgresql":  # as autovacuum would on a running site (the dates were rewritten)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"reports": count, "reused": False}


def bench(arguments: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from reports.models import Report

    call_command("migrate", verbosity=0)
    print(json.dumps({"step": "seed", "database": connection.vendor, **seed(arguments.reports)}), flush=True)
    client = Client()
    some_id = Report.objects.order_by("-created_at").values_list("pk", flat=True).first()
    rows = []
    for template in PATHS:
        path = template.format(id=some_id)
        for _ in range(5):
            assert client.get(path).status_code == 200
        times, size = [], 0
        with CaptureQueriesContext(connection) as queries:
            for _ in range(arguments.calls):
                start = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                size = len(response.content)
        times.sort()
        row = {"path": path, "database": connection.vendor, "calls": arguments.calls,
               "p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
               "queries": len(queries) // arguments.calls, "bytes": size,
               "loadavg": [round(x, 2) for x in os.getloadavg()]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| database | path | p50 ms | p95 ms | queries | bytes |\n|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['database']} | `{row['path']}` | {row['p50_ms']} | {row['p95_ms']} | {row['queries']} | "
              f"{row['bytes']:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--database", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    arguments = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database_url(arguments.database, "open311", arguments.reseed)
    os.environ["CHANNEL_LAYER"] = "memory"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    bench(arguments)


if __name__ == "__main__":
    main()
