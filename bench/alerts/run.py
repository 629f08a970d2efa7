"""One `send_alerts` pass at scale (issue 13): N confirmed alerts, M changes, every email sent to a real SMTP server.

    # SpatiaLite: a file of the bench's own (var/bench/alerts.sqlite3) when DATABASE_URL is empty
    .venv/bin/python bench/alerts/run.py --alerts 10000 --changes 1000 --projects 5000

    # PostGIS: the checkout's private cluster (scripts/pg.sh)
    scripts/pg.sh start && psql -h "$PWD/var/pg" -U postgres -d postgres -c "CREATE DATABASE bukaamanzi_bench_alerts"
    DATABASE_URL="postgis://postgres@/bukaamanzi_bench_alerts?host=$PWD/var/pg" \
        .venv/bin/python bench/alerts/run.py --alerts 10000 --changes 1000 --projects 5000

About 2 minutes for the seeding and 1.5-3 minutes for the pass on 2 cores. The SMTP sink is started with the
running interpreter (`python -m aiosmtpd`, from requirements-dev.txt).

Not timed (the seeding): migrate, load the reference municipalities and their points, delete the rows of earlier
runs (every alerts table, the change log, the bench's projects and reports), then

1. `--projects` projects (external id BENCH-<n>) near the points of the municipalities that have one, through
   `project_upsert_from_source` as ingestion writes them;
2. one published report from known@example.org, dated 30 days ago, so that the bench's reports come from a known
   sender and are not held back for the first-time sender's hour;
3. `--alerts` confirmed alerts, one address each (bench<n>@example.org), bulk-created: 30 % follow a project,
   30 % a municipality (districts included), 40 % an area (centre near a municipality's point, radius 0.5-50
   km); 85 % immediate, 15 % daily; mostly English;
4. `--changes` changes through the services: 70 % a project's progress (`project_upsert_from_source`), 30 % a
   community report (`report_submit`) near a municipality's point.

Timed: one pass, phase by phase as `alerts.delivery.send_alerts_pass` runs them (expire, match, claim, send), with
the emails going to an aiosmtpd Sink in its own process. Daily alerts' items are matched but wait for the 07:00
digest (`--digest-due` dates the changes before the last digest time, so the pass is the 07:00 one that sends
the daily digests too). Each phase reports wall and CPU seconds of this process, its queries (counted with
`connection.execute_wrapper`, DEBUG stays off) and the time spent inside them; the pass reports emails per
second, queries per email, the queries of each claim and each send (to show they do not grow with the items of
an email), the statements the time went to, memory (this process's RSS sampled every 50 ms, and maxrss before
and after; with `--tracemalloc` the peak of Python allocations too, in a run of its own because tracing about
doubles the pass's time), on PostGIS the CPU of the cluster's processes, and the CPU of the SMTP sink. Then the
plan of the area match's candidate query, and whether it reads the spatial index.

Prints one JSON line per step (the plan's text also goes to stderr); `--json-out PATH` writes them to a file too.
`--profile PATH` writes a cProfile of the pass (its timings then include the profiler's cost).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SEED = 20261204
KNOWN_SENDER = "known@example.org"
LANGUAGES = ("en",) * 7 + ("zu", "xh", "af")
REPORT_TYPES = ("issue", "progress_update", "quality_concern", "completion")
IN_LIST = re.compile(r"IN \((?:%s, )*%s\)")
lines: list[dict[str, Any]] = []


def emit(record: dict[str, Any]) -> None:
    lines.append(record)
    print(json.dumps(record), flush=True)


# --- The SMTP sink ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    """aiosmtpd's Sink (accepts every message, keeps none) in its own process, as a mail server would be."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                                "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return process, port
        if process.poll() is not None:
            raise SystemExit(f"the SMTP sink exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the SMTP sink did not start listening within 20 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Measuring --------------------------------------------------------------------------------------------


class QueryCounter:
    """Counts the queries the connection runs and the time inside them (the database's work, the round trip,
    and on psycopg the rows' transfer), without DEBUG's copy of every statement. Also per statement (the SQL
    with its placeholders, numbers of IN values folded): which ones the time goes to."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.by_statement: dict[str, list[float]] = {}

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            self.count += 1
            self.seconds += seconds
            entry = self.by_statement.setdefault(sql, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    def top(self, count: int) -> list[dict[str, Any]]:
        folded: dict[str, list[float]] = {}
        for sql, (calls, seconds) in self.by_statement.items():
            entry = folded.setdefault(IN_LIST.sub("IN (...)", sql), [0, 0.0])
            entry[0] += calls
            entry[1] += seconds
        ranked = sorted(folded.items(), key=lambda item: -item[1][1])[:count]
        return [{"sql": sql[:300], "calls": int(calls), "s": round(seconds, 2),
                 "ms_each": round(1000 * seconds / calls, 3)} for sql, (calls, seconds) in ranked]


@contextlib.contextmanager
def calls_recorded(module: Any, name: str, counter: QueryCounter, into: list[tuple[Any, Any, int]]) -> Iterator[None]:
    """Record (first argument, result, queries) of every call of module.name for the duration. The pass looks
    its helpers up by module global, so this sees each claim and each send without touching alerts/."""
    original = getattr(module, name)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        before = counter.count
        result = original(*args, **kwargs)
        into.append((args[0] if args else None, result, counter.count - before))
        return result

    setattr(module, name, recorded)
    try:
        yield
    finally:
        setattr(module, name, original)


def cpu_of(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def database_processes() -> tuple[list[psutil.Process], int] | None:
    """On PostGIS: the cluster's processes (the postmaster of this session's backend and all its children), and
    this session's backend pid. Only this cluster's: another one on the machine is not counted."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    postmaster = psutil.Process(backend).parent()
    assert postmaster is not None and postmaster.name() == "postgres", postmaster
    return [postmaster, *postmaster.children(recursive=True)], backend


class RssSampler(threading.Thread):
    """This process's resident memory every 50 ms: the pass's own peak, which maxrss cannot show when the seeding
    (migrations, the gazetteer) has already set the process's high-water mark, and at no tracing cost."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process()
        self.start_mb = self.peak_mb = self.process.memory_info().rss / 2**20
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak_mb = max(self.peak_mb, self.process.memory_info().rss / 2**20)

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.join()
        self.peak_mb = max(self.peak_mb, self.process.memory_info().rss / 2**20)
        return {"rss_at_start_mb": round(self.start_mb, 1), "rss_peak_mb": round(self.peak_mb, 1),
                "rss_growth_mb": round(self.peak_mb - self.start_mb, 1)}


def maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def timed_phase(name: str, run: Callable[[], Any], counter: QueryCounter) -> tuple[dict[str, Any], Any]:
    queries, db_seconds = counter.count, counter.seconds
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    record = {
        "phase": name,
        "wall_s": round(time.perf_counter() - wall, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
        "queries": counter.count - queries,
        "in_queries_s": round(counter.seconds - db_seconds, 3),
    }
    return record, result


# --- Seeding (not timed) ----------------------------------------------------------------------------------


def near(point: Any, rng: random.Random, spread: float) -> tuple[float, float]:
    """(lng, lat) within `spread` degrees of the point, kept inside the South Africa box the services check."""
    lng = min(max(point.x + rng.uniform(-spread, spread), 16.0), 33.0)
    lat = min(max(point.y + rng.uniform(-spread, spread), -35.0), -22.0)
    return round(lng, 5), round(lat, 5)


def prepare() -> None:
    """Schema, municipalities (idempotent), and no rows left from an earlier run."""
    from django.core.management import call_command

    from alerts.models import Alert, AlertItem, Bounce, Delivery, Subscriber
    from changelog.models import DataChangeLog
    from municipalities.services import municipality_load_reference, municipality_locate_points
    from projects.models import Project
    from reports.models import Contributor, Report

    call_command("migrate", verbosity=0)
    loaded = municipality_load_reference()
    if loaded.errors:
        raise SystemExit("; ".join(loaded.errors))
    municipality_locate_points()
    # Children first, so that each delete has nothing left to cascade to.
    for model in (AlertItem, Bounce, Delivery, Alert, Subscriber):
        model.objects.all().delete()
    Report.objects.filter(title__startswith="BENCH ").delete()
    Contributor.objects.filter(email=KNOWN_SENDER).delete()
    Project.objects.filter(source="municipal_money", external_id__startswith="BENCH-").delete()
    DataChangeLog.objects.all().delete()


def seed_projects(count: int, pointed: list[Any], rng: random.Random) -> list[Any]:
    """Projects as ingestion writes them (the real service), 500 to a transaction as a harvest's batch."""
    from django.contrib.gis.geos import Point
    from django.db import transaction

    from projects.services import project_upsert_from_source

    projects = []
    for start in range(0, count, 500):
        with transaction.atomic():
            for n in range(start, min(start + 500, count)):
                municipality = pointed[n % len(pointed)]
                lng, lat = near(municipality.point, rng, 0.15)
                outcome = project_upsert_from_source(source="municipal_money", external_id=f"BENCH-{n}", values={
                    "name": f"BENCH project {n}: reservoir and pipeline",
                    "municipality": municipality,
                    "location": Point(lng, lat, srid=4326),
                    "status": "implementation",
                    "project_type": rng.choice(("New", "Renewal", "Upgrading")),
                    "budget_allocated": Decimal(rng.randint(100_000, 90_000_000)),
                    "progress_percentage": Decimal(rng.randint(0, 50)),
                })
                projects.append(outcome.project)
    return projects


def seed_known_sender(pointed: list[Any]) -> None:
    """One published report from KNOWN_SENDER, 30 days old: the bench's reports then come from a known sender."""
    from django.utils import timezone

    from reports.models import Report
    from reports.services import report_submit

    point = pointed[0].point
    report = report_submit(title="BENCH earlier report", description="An earlier report from this address.",
                           report_type="issue", lng=point.x, lat=point.y, name="Bench resident", email=KNOWN_SENDER)
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - dt.timedelta(days=30))


def seed_alerts(count: int, projects: list[Any], municipalities: list[Any], pointed: list[Any],
                rng: random.Random) -> dict[str, int]:
    """Confirmed alerts, one address each, bulk-created (a sign-up and its confirmation cost a few queries each
    through the services; 10,000 of them would be minutes of set-up for nothing the pass reads differently)."""
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from alerts.models import Alert, AlertKind, Frequency, Subscriber
    from alerts.services import AlertTarget

    kinds = ([AlertKind.PROJECT] * round(count * 0.3) + [AlertKind.MUNICIPALITY] * round(count * 0.3))
    kinds += [AlertKind.AREA] * (count - len(kinds))
    rng.shuffle(kinds)
    Subscriber.objects.bulk_create([Subscriber(email=f"bench{n}@example.org") for n in range(count)],
                                   batch_size=1000)
    subscriber_ids = dict(Subscriber.objects.filter(email__startswith="bench").values_list("email", "pk"))
    confirmed = timezone.now() - dt.timedelta(days=30)
    alerts = []
    for n, kind in enumerate(kinds):
        if kind == AlertKind.PROJECT:
            target = AlertTarget(kind=kind, project=rng.choice(projects))
        elif kind == AlertKind.MUNICIPALITY:
            target = AlertTarget(kind=kind, municipality=rng.choice(municipalities))
        else:
            lng, lat = near(rng.choice(pointed).point, rng, 0.2)
            radius = Decimal(str(rng.uniform(0.5, 50))).quantize(Decimal("0.1"))
            target = AlertTarget(kind=kind, center=Point(lng, lat, srid=4326), radius_km=radius)
        alerts.append(Alert(
            subscriber_id=subscriber_ids[f"bench{n}@example.org"], kind=kind, project=target.project,
            municipality=target.municipality, center=target.center, radius_km=target.radius_km,
            target_key=target.key, frequency=Frequency.DAILY if rng.random() < 0.15 else Frequency.IMMEDIATE,
            language=rng.choice(LANGUAGES), confirmed_at=confirmed))
    Alert.objects.bulk_create(alerts, batch_size=1000)
    return dict(Counter(str(a.kind) for a in alerts)) | {
        "daily": sum(a.frequency == Frequency.DAILY for a in alerts)}


def make_changes(count: int, projects: list[Any], pointed: list[Any], rng: random.Random) -> dict[str, int]:
    """The changes the pass sends, through the services that make them in production, interleaved."""
    from django.db import transaction

    from projects.services import project_upsert_from_source
    from reports.services import report_submit

    kinds = ["project"] * round(count * 0.7) + ["report"] * (count - round(count * 0.7))
    rng.shuffle(kinds)
    wanted = kinds.count("project")
    # Distinct projects, so that every upsert is a change (seeded progress is 0-50, new progress 51-100).
    changed = iter(rng.sample(projects, wanted) if wanted <= len(projects) else rng.choices(projects, k=wanted))
    for n, kind in enumerate(kinds):
        if kind == "project":
            project = next(changed)
            with transaction.atomic():
                project_upsert_from_source(source="municipal_money", external_id=project.external_id,
                                           values={"progress_percentage": Decimal(rng.randint(51, 100))})
        else:
            lng, lat = near(rng.choice(pointed).point, rng, 0.1)
            report_submit(title=f"BENCH report {n}: leaking pipe", description="Water running down the road.",
                          report_type=rng.choice(REPORT_TYPES), lng=lng, lat=lat, name="Bench resident",
                          email=KNOWN_SENDER)
    return dict(Counter(kinds))


def date_before_digest() -> int:
    """--digest-due: the unmatched changes dated an hour before the last digest time, so that this pass is the
    07:00 one and the daily alerts' digests are claimed and sent too."""
    from django.utils import timezone

    from alerts.delivery import last_digest_time
    from changelog.models import DataChangeLog

    when = last_digest_time(timezone.now()) - dt.timedelta(hours=1)
    return DataChangeLog.objects.filter(alerts_matched=False).update(created_at=when)


# --- The pass ---------------------------------------------------------------------------------------------


def run_pass(counter: QueryCounter, *, trace_memory: bool, profile: str) -> tuple[list[dict[str, Any]], dict]:
    from alerts import delivery
    from alerts.matching import alert_items_match
    from alerts.services import alerts_expire_unconfirmed

    phases = [
        ("expire", lambda: {"expired": alerts_expire_unconfirmed() + delivery.items_expire()}),
        ("match", lambda: {"matched": alert_items_match()}),
        ("claim", lambda: {"claimed": len(delivery.deliveries_claim())}),
        ("send", lambda: dict(zip(("sent", "failed"), delivery.deliveries_send(), strict=True))),
    ]
    claims: list[tuple[Any, Any, int]] = []
    sends: list[tuple[Any, Any, int]] = []
    records = []
    gc.collect()
    profiler = cProfile.Profile() if profile else None
    # Claims run per batch of addresses and sends per batch of deliveries; `_claim_batch` returns the batch's
    # delivery ids and `_send_one` is called once per email (its batch's lease and load queries are shared).
    with (calls_recorded(delivery, "_claim_batch", counter, claims),
          calls_recorded(delivery, "_send_batch", counter, sends)):
        if trace_memory:
            tracemalloc.start()
        if profiler is not None:
            profiler.enable()
        for name, run in phases:
            record, result = timed_phase(name, run, counter)
            records.append(record | result)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
        if trace_memory:
            tracemalloc.stop()
    return records, {"claims": claims, "sends": sends, "tracemalloc_peak_mb": None if peak is None
                     else round(peak / 2**20, 1)}


def per_email(claims: list[tuple[Any, Any, int]], sends: list[tuple[Any, Any, int]]) -> dict[str, Any]:
    """Queries of each claim and each send against the items the email carries: flat means no N+1."""
    from django.db.models import Count

    from alerts.models import AlertItem, Delivery

    items = dict(AlertItem.objects.filter(delivery__isnull=False).values("delivery").annotate(n=Count("pk"))
                 .values_list("delivery", "n"))
    # Per batch: (items in the batch's emails / emails, queries / emails), so a flat figure means no N+1.
    claimed = [(round(sum(items.get(d, 0) for d in ids) / len(ids)), round(queries / len(ids), 1))
               for _ids, ids, queries in claims if ids]
    sent = [(round(sum(items.get(d, 0) for d in ids) / len(ids)), round(queries / max(1, outcome[0].count(True)), 1))
            for ids, outcome, queries in sends if outcome[0].count(True)]
    # One alert per address here, so an email is about one kind of alert.
    kinds = Counter(kind for _pk, kind in Delivery.objects.filter(kind="alerts", sent_at__isnull=False)
                    .values_list("pk", "items__alert__kind").distinct().order_by())

    def spread(pairs: list[tuple[int, int]]) -> dict[str, Any]:
        if not pairs:
            return {}
        by_queries = [q for _, q in pairs]
        most = max(pairs)  # the email with the most items
        return {"min": min(by_queries), "max": max(by_queries), "median": statistics.median(by_queries),
                "for_the_batch_of_most_items_per_email": {"items_per_email": most[0], "queries_per_email": most[1]},
                "for_batches_of_one_item_emails": sorted({q for n, q in pairs if n == 1})}

    counts = sorted(items.values())
    return {
        "claim_queries_per_email": spread(claimed),
        "send_queries_per_email": spread(sent),
        "items_per_email": {"min": counts[0], "median": statistics.median(counts), "max": counts[-1]} if counts
        else {},
        "emails_by_alert_kind": dict(kinds),
        "claim_batches": len(claims), "send_batches": len(sends),
    }


def area_plan(pointed: list[Any]) -> dict[str, Any]:
    """The plan of the area match's candidate query (as `area_alerts_near` runs it) for one municipality's point."""
    from django.db import connection

    from alerts.matching import area_candidates

    municipality = next((m for m in pointed if m.code == "CPT"), pointed[0])
    queryset = area_candidates(municipality.point).only("pk", "center", "radius_km", "confirmed_at")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE alerts_alert")
        plan = queryset.explain(analyze=True, buffers=True)
        found = re.search(r"Index (?:Only )?Scan (?:using|on) (\S*center\S*)", plan)
        index = found.group(1) if found else ""
    else:
        plan = queryset.explain()
        index = "idx_alerts_alert_center" if "idx_alerts_alert_center" in plan else ""
    print(f"-- EXPLAIN of area_candidates at {municipality.code} {municipality.point.coords}:\n{plan}",
          file=sys.stderr)
    return {"step": "plan", "database": connection.vendor, "point": f"{municipality.code} {municipality.point.coords}",
            "uses_spatial_index": bool(index), "index": index,
            "index_line": next((line.strip() for line in plan.splitlines() if index and index in line), ""),
            "plan": plan.splitlines()}


# --- Main -------------------------------------------------------------------------------------------------


def bench(arguments: argparse.Namespace, sink: subprocess.Popen[bytes]) -> None:
    import django

    django.setup()
    from django.db import connection

    from alerts.models import AlertItem
    from changelog.models import DataChangeLog
    from municipalities.models import Municipality

    rng = random.Random(SEED)
    started = time.perf_counter()
    prepare()
    municipalities = list(Municipality.objects.current().order_by("code"))
    pointed = [m for m in municipalities if m.point is not None]
    projects = seed_projects(arguments.projects, pointed, rng)
    seed_known_sender(pointed)
    seeded = time.perf_counter()
    # The seeding's own change-log rows are not the pass's work.
    DataChangeLog.objects.filter(alerts_matched=False).update(alerts_matched=True)
    alerts = seed_alerts(arguments.alerts, projects, municipalities, pointed, rng)
    alerted = time.perf_counter()
    changes = make_changes(arguments.changes, projects, pointed, rng)
    dated = date_before_digest() if arguments.digest_due else 0
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum keeps them on a running site (10,000 rows just arrived in one go).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    unmatched = DataChangeLog.objects.filter(alerts_matched=False).count()
    emit({"step": "seed", "database": connection.vendor, "municipalities": len(municipalities),
          "with_point": len(pointed), "projects": len(projects), "alerts": alerts, "changes": changes,
          "changes_dated_before_digest": dated, "change_log_rows_to_match": unmatched,
          "projects_s": round(seeded - started, 1), "alerts_s": round(alerted - seeded, 1),
          "changes_s": round(time.perf_counter() - alerted, 1)})

    counter = QueryCounter()
    database = database_processes()
    database_before = cpu_of(database[0]) if database else {}
    sink_before = cpu_of([psutil.Process(sink.pid)])
    rss_before, load_before = maxrss_mb(), os.getloadavg()
    sampler = RssSampler()
    sampler.start()
    with connection.execute_wrapper(counter):
        records, extra = run_pass(counter, trace_memory=arguments.tracemalloc, profile=arguments.profile)
    rss = sampler.stop()
    rss_after, load_after = maxrss_mb(), os.getloadavg()
    sink_cpu = sum(cpu_of([psutil.Process(sink.pid)]).values()) - sum(sink_before.values())
    database_cpu = backend_cpu = None
    if database:
        # Processes started during the pass (autovacuum workers) count from zero; ones that ended are lost.
        after = cpu_of([database[0][0], *database[0][0].children(recursive=True)])
        database_cpu = round(sum(seconds - database_before.get(pid, 0.0) for pid, seconds in after.items()), 2)
        backend_cpu = round(after.get(database[1], 0.0) - database_before.get(database[1], 0.0), 2)
    for record in records:
        emit({"step": "phase", "database": connection.vendor} | record)

    wall = sum(r["wall_s"] for r in records)
    queries = sum(r["queries"] for r in records)
    sent = records[3]["sent"]
    send_wall = records[3]["wall_s"]
    plan = area_plan(pointed)
    summary = {
        "step": "summary", "database": connection.vendor, "alerts": arguments.alerts, "changes": arguments.changes,
        "projects": arguments.projects, "digest_due": arguments.digest_due,
        "items_matched": records[1]["matched"], "emails_claimed": records[2]["claimed"], "emails_sent": sent,
        "emails_failed": records[3]["failed"],
        "items_left_pending": AlertItem.objects.filter(delivery__isnull=True).count(),
        "wall_s": round(wall, 2), "cpu_s": round(sum(r["cpu_s"] for r in records), 2),
        "in_queries_s": round(sum(r["in_queries_s"] for r in records), 2), "queries": queries,
        "emails_per_s": round(sent / wall, 1) if wall else None,
        "emails_per_s_send_phase": round(sent / send_wall, 1) if send_wall else None,
        "queries_per_email": round(queries / sent, 2) if sent else None,
        **per_email(extra["claims"], extra["sends"]),
        **rss, "tracemalloc_peak_mb": extra["tracemalloc_peak_mb"], "maxrss_before_mb": rss_before,
        "maxrss_after_mb": rss_after, "postgres_cpu_s": database_cpu, "postgres_backend_cpu_s": backend_cpu,
        "smtp_sink_cpu_s": round(sink_cpu, 2),
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in load_after],
        "plan_uses_spatial_index": plan["uses_spatial_index"], "plan_index_line": plan["index_line"],
        "profiled": bool(arguments.profile), "tracemalloc": arguments.tracemalloc,
    }
    emit({"step": "statements", "database": connection.vendor, "top_by_time": counter.top(arguments.top_statements)})
    emit(plan)
    emit(summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--projects", type=int, default=5_000)
    parser.add_argument("--digest-due", action="store_true",
                        help="date the changes before the last digest time: the daily alerts are sent too")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace Python allocations for their peak (tracing about doubles the pass's time)")
    parser.add_argument("--profile", default="", metavar="PATH", help="write a cProfile of the pass to PATH")
    parser.add_argument("--top-statements", type=int, default=12, metavar="N",
                        help="list the N statements the pass spent the most time in")
    parser.add_argument("--json-out", default="", metavar="PATH", help="also write the JSON lines to PATH")
    arguments = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        # Never the development database: the bench empties the alerts tables and the change log.
        (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"spatialite:///{ROOT / 'var' / 'bench' / 'alerts.sqlite3'}"
    sink, port = start_sink()
    # Read by bukaamanzi.settings at django.setup(): the sink, no Redis, links to a fixed site.
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ["CHANNEL_LAYER"] = "memory"
    os.environ.setdefault("SITE_URL", "https://bukaamanzi.example")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    try:
        bench(arguments, sink)
    finally:
        stop(sink)
    if arguments.json_out:
        Path(arguments.json_out).write_text("".join(json.dumps(line) + "\n" for line in lines))


if __name__ == "__main__":
    main()
