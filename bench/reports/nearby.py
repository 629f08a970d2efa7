"""Open reports near a place (issue 14's duplicate suggestions): `open_reports_near` in-process over 200,000 reports.

    .venv/bin/python bench/reports/nearby.py --database spatialite    # var/bench/nearby.sqlite3
    .venv/bin/python bench/reports/nearby.py --database postgis       # scripts/pg.sh's cluster, its own database

The database is the bench's own (a SpatiaLite file under var/bench/, or the database bukaamanzi_bench_nearby in
the checkout's private cluster, created when missing), never the development or the test one. `--reseed`
starts it afresh; otherwise a database that already holds the seeded reports is reused (seeding took 50 s
on SpatiaLite and 105 s on PostGIS, 2 cores).

Not timed (the seeding): migrate, load the reference municipalities and their points (the seat towns, from the
offline gazetteer), then bulk-insert `--reports` published problems (90 % "issue", 10 % "quality concern";
60 % open, 10 % acknowledged, 10 % in progress, 17 % fixed, 3 % closed unfixed) around the seats of the metros
and local municipalities: each town has neighbourhoods (60 for a metro within ~12 km of its seat, 8 for a local
within ~3 km), a metro draws 8 times a local's share, and a report lies within ~600 m of its neighbourhood's
centre (Gaussian offsets), so that a query there finds several reports within 250 m. 40 % of the reports have
1-3 photo rows (names and sizes only: the query reads the rows, not the files). On PostGIS, ANALYZE after, as
autovacuum would on a running site; SpatiaLite gets no ANALYZE, as a site's database has none.

Timed: `--queries` calls of `open_reports_near` (default radius 250 m, at most 5) at random points drawn as the
reports are (a random neighbourhood, ~600 m around its centre), after 50 untimed calls that warm the connection.
Each call's wall time, its queries and the time inside them (`connection.execute_wrapper`, DEBUG stays off),
then p50/p95/p99 and how many reports the calls found. Last, the plan of the candidate query at the point whose
box held the most candidates: EXPLAIN (ANALYZE, BUFFERS) on PostGIS, EXPLAIN QUERY PLAN on SpatiaLite, and
whether it reads the spatial index.

Prints one JSON line per step and a short table; `--json-out PATH` writes the JSON lines to a file too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.databases import bench_database_url  # noqa: E402

SEED = 20261214
TITLE = "BENCH nearby"
NEIGHBOURHOOD_SPREAD_M = 600
# (neighbourhoods, their spread around the seat in km, the share of reports) by municipality category
TOWN_SHAPES = {"A": (60, 12.0, 8), "B": (8, 3.0, 1)}
STATES = (("open", 60), ("acknowledged", 10), ("in_progress", 10), ("fixed", 17), ("not_fixed", 3))
PHOTO_SHARE = 0.4
ROUGH_SHARE = 0.1  # reports whose sender chose "show the place only roughly"
BATCH = 5000
WARM_UP = 50
lines: list[dict[str, Any]] = []


def emit(record: dict[str, Any]) -> None:
    lines.append(record)
    print(json.dumps(record), flush=True)


# --- The database -----------------------------------------------------------------------------------------


# --- Where reports are ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Neighbourhood:
    lng: float
    lat: float


def metres_east_north(lng: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """A point `east_m` and `north_m` metres from (lng, lat); a flat approximation, exact enough for seeding."""
    metres_per_degree = 111_195.0
    return (lng + east_m / (metres_per_degree * math.cos(math.radians(lat))), lat + north_m / metres_per_degree)


def neighbourhoods(rng: random.Random) -> tuple[list[Neighbourhood], list[int]]:
    """Every town's neighbourhoods, and each one's weight (its town's share spread over its neighbourhoods)."""
    from municipalities.models import Municipality
    from reports.services import in_south_africa

    places, weights = [], []
    towns = Municipality.objects.current().filter(point__isnull=False, category__in=TOWN_SHAPES).order_by("code")
    for town in towns:
        count, spread_km, share = TOWN_SHAPES[town.category]
        made = 0
        while made < count:
            lng, lat = metres_east_north(town.point.x, town.point.y, rng.gauss(0, spread_km * 1000),
                                         rng.gauss(0, spread_km * 1000))
            if in_south_africa(lng, lat):
                places.append(Neighbourhood(lng=lng, lat=lat))
                weights.append(share * 1000 // count)
                made += 1
    return places, weights


def point_near(place: Neighbourhood, rng: random.Random) -> tuple[float, float]:
    from reports.services import in_south_africa

    while True:
        lng, lat = metres_east_north(place.lng, place.lat, rng.gauss(0, NEIGHBOURHOOD_SPREAD_M),
                                     rng.gauss(0, NEIGHBOURHOOD_SPREAD_M))
        if in_south_africa(lng, lat):
            return round(lng, 6), round(lat, 6)


# --- Seeding (not timed) ----------------------------------------------------------------------------------


def seeded_count() -> int:
    from reports.models import Report

    return Report.objects.filter(title__startswith=TITLE).count()


def seed(count: int, places: list[Neighbourhood], weights: list[int], rng: random.Random) -> dict[str, Any]:
    """Published problems and their photo rows, bulk-inserted a batch per transaction."""
    from django.contrib.gis.geos import Point
    from django.db import transaction

    from bukaamanzi.lib.geo import snap_to_grid
    from reports.models import Report, ReportPhoto, ReportStatus, ReportType

    states = [state for state, share in STATES for _ in range(share)]
    started = time.perf_counter()
    photos = 0
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        chosen = rng.choices(places, weights=weights, k=size)
        reports = []
        for n, place in enumerate(chosen, start=start):
            lng, lat = point_near(place, rng)
            # One in ten shown "only roughly": the search runs on the public point, as the site's does.
            rough = rng.random() < ROUGH_SHARE
            public = snap_to_grid(lng=lng, lat=lat) if rough else (lng, lat)
            reports.append(Report(
                title=f"{TITLE} {n}: water leaking from a pipe", description="Water running down the street.",
                location=Point(lng, lat, srid=4326), public_location=Point(*public, srid=4326),
                location_is_rough=rough, status=ReportStatus.PUBLISHED,
                report_type=ReportType.ISSUE if rng.random() < 0.9 else ReportType.QUALITY_CONCERN,
                state=rng.choice(states)))
        with transaction.atomic():
            created = Report.objects.bulk_create(reports, batch_size=1000)
            # Width and height set, so the image field never opens the (absent) file for its size.
            rows = [ReportPhoto(report=report, image=f"reports/bench/{report.pk}-{k}.jpg", width=1600, height=1200,
                                alt_text="The leak")
                    for report in created if rng.random() < PHOTO_SHARE for k in range(rng.randint(1, 3))]
            ReportPhoto.objects.bulk_create(rows, batch_size=1000)
        photos += len(rows)
        if (start // BATCH) % 10 == 9:
            print(f"  {start + size} reports", file=sys.stderr, flush=True)
    return {"reports": count, "photos": photos, "seed_s": round(time.perf_counter() - started, 1)}


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- Timing -----------------------------------------------------------------------------------------------


class QueryTimer:
    """The queries a call runs and the time inside them."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    return sorted_values[min(len(sorted_values) - 1, math.ceil(share * len(sorted_values)) - 1)]


def time_queries(count: int, places: list[Neighbourhood], weights: list[int], rng: random.Random,
                 radius_m: int) -> dict[str, Any]:
    from django.db import connection

    from reports.nearby import open_report_candidates, open_reports_near

    points = [point_near(place, rng) for place in rng.choices(places, weights=weights, k=count + WARM_UP)]
    for lng, lat in points[:WARM_UP]:
        open_reports_near(lng=lng, lat=lat, radius_m=radius_m)
    timer = QueryTimer()
    walls, in_queries, found, queries = [], [], Counter(), Counter()
    with connection.execute_wrapper(timer):
        for lng, lat in points[WARM_UP:]:
            before_count, before_seconds = timer.count, timer.seconds
            started = time.perf_counter()
            result = open_reports_near(lng=lng, lat=lat, radius_m=radius_m)
            walls.append((time.perf_counter() - started) * 1000)
            in_queries.append((timer.seconds - before_seconds) * 1000)
            found[len(result)] += 1
            queries[timer.count - before_count] += 1
    # The plan is shown where the index has the most to do: the point whose box holds the most candidates.
    busiest = max(points[WARM_UP:WARM_UP + 500],
                  key=lambda p: open_report_candidates(lng=p[0], lat=p[1], radius_m=radius_m).count())
    walls.sort()
    in_queries.sort()
    return {
        "queries": count, "radius_m": radius_m,
        "p50_ms": round(percentile(walls, 0.50), 2), "p95_ms": round(percentile(walls, 0.95), 2),
        "p99_ms": round(percentile(walls, 0.99), 2), "max_ms": round(walls[-1], 2),
        "mean_ms": round(statistics.fmean(walls), 2),
        # psycopg reads every row inside execute(); sqlite3 steps through them as they are fetched, after it, so
        # the time inside execute() says nothing there.
        "in_queries_p50_ms": round(percentile(in_queries, 0.50), 2) if connection.vendor == "postgresql" else None,
        "in_queries_p95_ms": round(percentile(in_queries, 0.95), 2) if connection.vendor == "postgresql" else None,
        "found": {str(k): found[k] for k in sorted(found)}, "sql_queries_per_call": dict(sorted(queries.items())),
        "busiest_point": busiest,
    }


def plan_at(point: tuple[float, float], radius_m: int) -> dict[str, Any]:
    from django.db import connection

    from reports.nearby import open_report_candidates

    candidates = open_report_candidates(lng=point[0], lat=point[1], radius_m=radius_m)
    if connection.vendor == "postgresql":
        plan = candidates.explain(analyze=True, buffers=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'reports_report' "
                           "AND indexdef LIKE '%%USING gist (public_location)%%'")
            index = cursor.fetchone()[0]
    else:
        plan = candidates.explain()
        index = "idx_reports_report_public_location"
    print(f"-- plan of the candidate query at {point}:\n{plan}", file=sys.stderr)
    return {"step": "plan", "database": connection.vendor, "point": point, "candidates": candidates.count(),
            "index": index, "uses_spatial_index": index in plan,
            "index_line": next((line.strip() for line in plan.splitlines() if index in line), ""),
            "plan": plan.splitlines()}


# --- Main -------------------------------------------------------------------------------------------------


def bench(arguments: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from municipalities.services import municipality_load_reference, municipality_locate_points

    rng = random.Random(SEED)
    call_command("migrate", verbosity=0)
    loaded = municipality_load_reference()
    if loaded.errors:
        raise SystemExit("; ".join(loaded.errors))
    municipality_locate_points()
    places, weights = neighbourhoods(rng)
    existing = seeded_count()
    if existing == arguments.reports:
        seeded: dict[str, Any] = {"reports": existing, "reused": True}
    elif existing:
        raise SystemExit(f"the bench database holds {existing} bench reports, not {arguments.reports}: "
                         "run with --reseed")
    else:
        seeded = seed(arguments.reports, places, weights, rng)
        analyze()
    emit({"step": "seed", "database": connection.vendor, "neighbourhoods": len(places), **seeded})

    timed = time_queries(arguments.queries, places, weights, random.Random(SEED + 1), arguments.radius_m)
    load = [round(x, 2) for x in os.getloadavg()]
    emit({"step": "timing", "database": connection.vendor, **timed, "loadavg": load})
    plan = plan_at(tuple(timed["busiest_point"]), arguments.radius_m)
    emit(plan)
    in_queries = ("n/a" if timed["in_queries_p50_ms"] is None
                  else f"{timed['in_queries_p50_ms']} / {timed['in_queries_p95_ms']}")
    print(f"\n| database | reports | calls | p50 ms | p95 ms | p99 ms | in queries p50/p95 ms | found ≥ 1 | plan |\n"
          f"|---|---|---|---|---|---|---|---|---|\n"
          f"| {connection.vendor} | {seeded['reports']:,} | {timed['queries']:,} | {timed['p50_ms']} | "
          f"{timed['p95_ms']} | {timed['p99_ms']} | {in_queries} | "
          f"{timed['queries'] - timed['found'].get('0', 0):,} | {plan['index_line']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--radius-m", type=int, default=250)
    parser.add_argument("--reseed", action="store_true", help="start the bench's database afresh")
    parser.add_argument("--json-out", default="", metavar="PATH", help="also write the JSON lines to PATH")
    arguments = parser.parse_args()

    url = bench_database_url(arguments.database, "nearby", arguments.reseed)
    os.environ["DATABASE_URL"] = url
    os.environ["CHANNEL_LAYER"] = "memory"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    bench(arguments)
    if arguments.json_out:
        Path(arguments.json_out).write_text("".join(json.dumps(line) + "\n" for line in lines))


if __name__ == "__main__":
    main()
