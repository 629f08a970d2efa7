"""The one HTTP session every source fetches through, and a circuit breaker per source.

- Timeouts: `HTTP_CONNECT_TIMEOUT` / `HTTP_READ_TIMEOUT` on every request.
- Retries: urllib3's `Retry` (not a hand-written loop) on connection errors, read timeouts, 429 and 5xx, with
  exponential backoff plus jitter, honouring `Retry-After`; `HTTP_RETRIES` attempts after the first.
- Circuit breaker: pybreaker, one per source. A request that still fails after its retries counts as one
  failure; after `BREAKER_FAILURES` in a row the breaker opens and calls to that source are refused for
  `BREAKER_COOLDOWN_SECONDS`, then one trial call is let through. Its state lives in the database
  (`SourceCircuit`), so the web process, the django-q2 worker and `manage.py ingest` share it and the pipeline
  status can show it, with the time it opened.
- Proxy: `HTTP_PROXY_URL` only. The environment's proxy variables are ignored (`trust_env = False`) so that
  what a run does depends on settings alone (the DWS host answers South African addresses only, so a relay may
  be needed there and nowhere else is one wanted by accident).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import pybreaker
import requests
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingestion.models import CircuitState, SourceCircuit

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# DevExpress callbacks are POSTs that read data (the page state travels in the body), so they are retried too.
RETRY_METHODS = frozenset({"GET", "HEAD", "POST"})


class SourceUnavailable(Exception):
    """A source could not be reached (after retries), answered an HTTP error, or its breaker is open."""

    def __init__(self, source: str, message: str, *, breaker_open: bool = False) -> None:
        super().__init__(message)
        self.source = source
        self.breaker_open = breaker_open


# --------------------------------------------------------------------------------------------------------------
# The shared session
# --------------------------------------------------------------------------------------------------------------

_session_lock = threading.Lock()
_session: tuple[tuple[Any, ...], requests.Session] | None = None


def _session_key() -> tuple[Any, ...]:
    return (
        settings.HTTP_USER_AGENT,
        settings.HTTP_PROXY_URL,
        settings.HTTP_RETRIES,
        settings.HTTP_BACKOFF_FACTOR,
        settings.HTTP_BACKOFF_JITTER,
        settings.HTTP_BACKOFF_MAX,
    )


def _build_session() -> requests.Session:
    retry = Retry(
        total=settings.HTTP_RETRIES,
        connect=settings.HTTP_RETRIES,
        read=settings.HTTP_RETRIES,
        status=settings.HTTP_RETRIES,
        other=0,
        backoff_factor=settings.HTTP_BACKOFF_FACTOR,
        backoff_jitter=settings.HTTP_BACKOFF_JITTER,
        backoff_max=settings.HTTP_BACKOFF_MAX,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=RETRY_METHODS,
        respect_retry_after_header=True,
        # The last answer is returned rather than a MaxRetryError, so the error names the status and URL.
        raise_on_status=False,
    )
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": settings.HTTP_USER_AGENT, "Accept-Language": "en-ZA,en;q=0.8"})
    if settings.HTTP_PROXY_URL:
        session.proxies = {"http": settings.HTTP_PROXY_URL, "https": settings.HTTP_PROXY_URL}
    return session


def http_session() -> requests.Session:
    """The shared session, rebuilt only when the HTTP settings change (tests change them)."""
    global _session
    key = _session_key()
    with _session_lock:
        if _session is None or _session[0] != key:
            if _session is not None:
                _session[1].close()
            _session = (key, _build_session())
        return _session[1]


# --------------------------------------------------------------------------------------------------------------
# Circuit breaker state in the database
# --------------------------------------------------------------------------------------------------------------


class DatabaseCircuitStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker storage backed by one `SourceCircuit` row, so that every process sees the same state.

    Writes are single UPDATE statements (counters with F() expressions), made outside any ingestion
    transaction: a failed run rolls back its data, never the record that the source failed.
    """

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.source = source
        SourceCircuit.objects.get_or_create(source=source)

    def _row(self) -> SourceCircuit:
        return SourceCircuit.objects.get(source=self.source)

    def _update(self, **values: Any) -> None:
        SourceCircuit.objects.filter(source=self.source).update(updated_at=timezone.now(), **values)

    @property
    def state(self) -> str:
        return self._row().state

    @state.setter
    def state(self, state: str) -> None:
        self._update(state=state)

    def increment_counter(self) -> None:
        self._update(fail_counter=F("fail_counter") + 1)

    def reset_counter(self) -> None:
        self._update(fail_counter=0)

    def increment_success_counter(self) -> None:
        self._update(success_counter=F("success_counter") + 1)

    def reset_success_counter(self) -> None:
        self._update(success_counter=0)

    @property
    def counter(self) -> int:
        return self._row().fail_counter

    @property
    def success_counter(self) -> int:
        return self._row().success_counter

    @property
    def opened_at(self) -> dt.datetime | None:
        return self._row().opened_at

    @opened_at.setter
    def opened_at(self, value: dt.datetime) -> None:
        self._update(opened_at=value)


class _LogListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        logger.warning(
            "Circuit breaker for %s: %s -> %s", cb.name, getattr(old_state, "name", old_state), new_state.name
        )

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        SourceCircuit.objects.filter(source=cb.name).update(last_error=str(exc)[:2000])


def _is_not_a_source_failure(error: BaseException) -> bool:
    """A 4xx other than 429 is our request's fault (or a moved page), not the source being down."""
    if isinstance(error, requests.HTTPError) and error.response is not None:
        status = error.response.status_code
        return 400 <= status < 500 and status != 429
    return False


def source_breaker(source: str) -> pybreaker.CircuitBreaker:
    """The breaker of one source. Cheap to build: its state is read from the database on each use."""
    return pybreaker.CircuitBreaker(
        fail_max=settings.BREAKER_FAILURES,
        reset_timeout=settings.BREAKER_COOLDOWN_SECONDS,
        exclude=[_is_not_a_source_failure],
        listeners=[_LogListener()],
        state_storage=DatabaseCircuitStorage(source),
        name=source,
    )


def breaker_status(source: str) -> dict[str, Any]:
    """What the pipeline status shows about a source's breaker (state, failures, when it opened)."""
    row, _ = SourceCircuit.objects.get_or_create(source=source)
    cooldown_ends = (
        row.opened_at + dt.timedelta(seconds=settings.BREAKER_COOLDOWN_SECONDS)
        if row.state == CircuitState.OPEN and row.opened_at
        else None
    )
    return {
        "source": source,
        "state": row.state,
        "fail_counter": row.fail_counter,
        "opened_at": row.opened_at,
        "cooldown_ends_at": cooldown_ends,
        "last_error": row.last_error,
    }


def breaker_is_open(source: str) -> bool:
    """True while the breaker is open and its cool-down has not ended (a run would be refused at once)."""
    status = breaker_status(source)
    return status["cooldown_ends_at"] is not None and timezone.now() < status["cooldown_ends_at"]


def breaker_reset(source: str) -> None:
    """Close a source's breaker by hand (admin action, tests)."""
    SourceCircuit.objects.update_or_create(
        source=source,
        defaults={"state": CircuitState.CLOSED, "fail_counter": 0, "success_counter": 0, "opened_at": None},
    )


# --------------------------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------------------------


def fetch(
    source: str,
    url: str,
    *,
    method: str = "GET",
    params: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """Make one request to `source` through the shared session and its breaker; raise SourceUnavailable."""
    session = http_session()
    timeout = (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)

    def call() -> requests.Response:
        response = session.request(method, url, params=params, data=data, headers=headers, timeout=timeout)
        response.raise_for_status()
        return response

    try:
        return source_breaker(source).call(call)
    except pybreaker.CircuitBreakerError as error:
        raise SourceUnavailable(
            source, f"{source}: circuit breaker open after repeated failures ({error}); last request {url}",
            breaker_open=True,
        ) from error
    except requests.RequestException as error:
        raise SourceUnavailable(source, f"{source}: {method} {url} failed: {error}") from error
