"""The process's Prometheus instruments, and the hook other apps use to report a queue at scrape time.

Framework-free on purpose (prometheus-client only), so that any layer may count: the realtime consumers count
open sockets, the webhooks app registers its queue. Reading and serving them is `bukaamanzi.observability`.

Multiprocess mode: when PROMETHEUS_MULTIPROC_DIR is set before this module is first imported (scripts/serve.py
sets it for every process it starts), each process writes its values to files there and `/metrics` sums them,
so every granian worker, the daphne process and a scrape answered by any one of them agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

# Most pages and API answers take 5-100 ms; the tail up to 10 s is where a slow query shows.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

http_request_seconds = Histogram(
    "bukaamanzi_http_request_duration_seconds",
    "Time from the first middleware to the response, by route name (never the raw path) and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
http_responses = Counter(
    "bukaamanzi_http_responses", "Responses by route name and status code.", ["route", "status"]
)
# "liveall": one series per live process (a `pid` label), dropped when the process dies, so a restarted
# socket server does not leave its old count behind.
websockets_open = Gauge(
    "bukaamanzi_websockets_open", "Open WebSocket connections in this process.", multiprocess_mode="liveall"
)


@dataclass(frozen=True)
class QueueStats:
    """A work queue at one moment: what waits, what is being retried after a failure, what was given up."""

    waiting: int
    retrying: int
    given_up: int
    oldest_age_seconds: float


QueueReader = Callable[[], QueueStats]
_queues: dict[str, QueueReader] = {}


def register_queue(name: str, reader: QueueReader) -> None:
    """Report a queue on /metrics as `bukaamanzi_queue_*{queue="<name>"}`: `reader` runs at each scrape (read the
    database there, never count in process). Call from an AppConfig.ready(); registering a name again replaces it."""
    _queues[name] = reader


def registered_queues() -> dict[str, QueueReader]:
    return dict(_queues)
