"""What /metrics reads at scrape time: facts kept in the database (relay lag, ingestion runs, circuit breakers,
the email queue and any queue registered through `bukaamanzi.lib.metrics.register_queue`), and the per-process
files of multiprocess mode.

Database facts are read when scraped, not pushed by the code that changes them, so that every process (web,
worker, a management command) is counted, and a value never goes stale in a process that stopped updating it.
A section whose query fails is reported as `bukaamanzi_metrics_section_up{section=...} 0` instead of failing the
whole scrape.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.multiprocess import mark_process_dead

from alerts.models import Delivery
from bukaamanzi.lib.metrics import QueueStats, register_queue, registered_queues
from changelog.models import DataChangeLog
from ingestion.models import CircuitState, IngestionRun, RunStatus, SourceCircuit
from ingestion.sources.base import source_names

logger = logging.getLogger(__name__)


def _seconds_since(moment: object) -> float:
    return max(0.0, (timezone.now() - moment).total_seconds()) if moment is not None else 0.0  # type: ignore[operator]


def relay_metrics() -> Iterator[Metric]:
    unsent = DataChangeLog.objects.filter(notification_sent=False).aggregate(n=Count("pk"), oldest=Min("created_at"))
    yield GaugeMetricFamily("bukaamanzi_relay_unsent_changes", "Change-log rows not yet sent to live clients.",
                            value=unsent["n"])
    yield GaugeMetricFamily("bukaamanzi_relay_lag_seconds",
                            "Age of the oldest change-log row not yet sent to live clients (0: none waiting).",
                            value=_seconds_since(unsent["oldest"]))


def ingestion_metrics() -> Iterator[Metric]:
    runs = SummaryMetricFamily(
        "bukaamanzi_ingestion_run_duration_seconds",
        "Ingestion runs kept in the database by source and outcome (count), and their time from start to finish "
        "(sum; runs not finished count 0).",
        labels=["source", "outcome"],
    )
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    rows = (IngestionRun.objects.order_by().values("source", "status")
            .annotate(n=Count("pk"), took=Sum(took, filter=Q(started_at__isnull=False, finished_at__isnull=False))))
    for row in rows:
        total: timedelta | None = row["took"]
        runs.add_metric([row["source"], row["status"]], count_value=row["n"],
                        sum_value=total.total_seconds() if total else 0.0)
    yield runs
    last = GaugeMetricFamily("bukaamanzi_ingestion_last_success_timestamp_seconds",
                             "When the source's last successful run (changes or none) finished, Unix time.",
                             labels=["source"])
    successes = (IngestionRun.objects.order_by().filter(status__in=[RunStatus.SUCCESS, RunStatus.NO_CHANGE])
                 .values("source").annotate(at=Max("finished_at")))
    for row in successes:
        if row["at"] is not None:
            last.add_metric([row["source"]], row["at"].timestamp())
    yield last


def breaker_metrics() -> Iterator[Metric]:
    state = GaugeMetricFamily("bukaamanzi_source_circuit_state",
                              "Circuit breaker state of each source: 1 on the current state, 0 on the others.",
                              labels=["source", "state"])
    failures = GaugeMetricFamily("bukaamanzi_source_circuit_failures",
                                 "Consecutive failures counted by each source's circuit breaker.", labels=["source"])
    stored = {c.source: c for c in SourceCircuit.objects.all()}
    # A source that never failed has no row yet: closed.
    for source in sorted(set(source_names()) | set(stored)):
        circuit = stored.get(source)
        current = circuit.state if circuit else CircuitState.CLOSED
        for choice in CircuitState.values:
            state.add_metric([source, choice], 1.0 if choice == current else 0.0)
        failures.add_metric([source], circuit.fail_counter if circuit else 0)
    yield state
    yield failures


def email_queue() -> QueueStats:
    unsent = Delivery.objects.unsent().aggregate(n=Count("pk"), retrying=Count("pk", filter=Q(attempts__gt=0)),
                                                 oldest=Min("created_at"))
    return QueueStats(waiting=unsent["n"], retrying=unsent["retrying"],
                      given_up=Delivery.objects.filter(given_up_at__isnull=False).count(),
                      oldest_age_seconds=_seconds_since(unsent["oldest"]))


def queue_metrics() -> Iterator[Metric]:
    families = {
        "waiting": GaugeMetricFamily("bukaamanzi_queue_waiting", "Items waiting to be sent, by queue.",
                                     labels=["queue"]),
        "retrying": GaugeMetricFamily("bukaamanzi_queue_retrying",
                                      "Items waiting after at least one failed attempt, by queue.", labels=["queue"]),
        "given_up": GaugeMetricFamily("bukaamanzi_queue_given_up",
                                      "Items given up after repeated failures (kept rows), by queue.",
                                      labels=["queue"]),
        "oldest": GaugeMetricFamily("bukaamanzi_queue_oldest_age_seconds",
                                    "Age of the oldest waiting item, by queue (0: none waiting).", labels=["queue"]),
    }
    for name, reader in sorted(registered_queues().items()):
        stats = reader()
        families["waiting"].add_metric([name], stats.waiting)
        families["retrying"].add_metric([name], stats.retrying)
        families["given_up"].add_metric([name], stats.given_up)
        families["oldest"].add_metric([name], stats.oldest_age_seconds)
    yield from families.values()


SECTIONS: dict[str, Callable[[], Iterator[Metric]]] = {
    "relay": relay_metrics, "ingestion": ingestion_metrics, "breakers": breaker_metrics, "queues": queue_metrics,
}


class DatabaseCollector:
    """The scrape-time sections above, each on its own so that one failing query hides only its own figures."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("bukaamanzi_metrics_section_up",
                               "1 if the section's figures were read at this scrape, 0 if its query failed.",
                               labels=["section"])
        for name, section in SECTIONS.items():
            try:
                # A savepoint when inside a transaction: on PostgreSQL a failed query would otherwise spoil the
                # sections after it.
                with transaction.atomic():
                    metrics = list(section())
            except DatabaseError:
                logger.warning("Metrics section %s could not be read", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up


_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


def forget_dead_processes(directory: str) -> list[int]:
    """Drop the live gauges (open sockets) of processes that have exited, however they ended: a granian worker
    or daphne killed and restarted never runs an exit hook. Counters and histograms are kept: they are totals."""
    dead = []
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        found = _LIVE_FILE.search(path)
        if not found:
            continue
        pid = int(found.group(1))
        if pid != os.getpid() and not _alive(pid):
            mark_process_dead(pid, directory)
            dead.append(pid)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def register_builtin_queues() -> None:
    register_queue("email", email_queue)
