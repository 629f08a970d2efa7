"""API endpoints for ingestion: trigger a sync and follow its run (staff only).

Authentication: a staff user's session (with the CSRF token, as for any session POST), or, for machines,
`Authorization: Bearer <key>` with an API key of scope `sync:trigger` (issued in the admin, apikeys/). A key's
requests to the trigger count against its own rate limit. Deprecated, kept so that existing crons keep working:
`Authorization: Bearer <SYNC_API_TOKEN>` when that setting is set; it has no limit, no owner and no revocation
short of a deploy, so operators should move to a key and unset it.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import HttpBearer, SessionAuth

from apikeys.auth import ApiKeyBearer, KeyRateThrottle
from apikeys.models import ApiKey, Scope
from bukaamanzi.apitools import ApiError, ErrorOut, not_found
from ingestion.http import breaker_status
from ingestion.models import IngestionRun
from ingestion.services import ingestion_queue_run
from ingestion.sources.base import UnknownSource, source_class, source_names

router = Router(tags=["Ingestion"])


class StaffSession(SessionAuth):
    """A logged-in staff user (session cookie; ninja checks the CSRF token on unsafe methods)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated and user.is_staff else None


class SyncToken(HttpBearer):
    """Deprecated: the one shared SYNC_API_TOKEN (see the module docstring); an API key replaces it."""

    def authenticate(self, request: HttpRequest, token: str) -> str | None:
        expected = settings.SYNC_API_TOKEN
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return "sync-token"
        return None


# A staff session first, then an API key; a bearer token that is no key falls through to the old SYNC_API_TOKEN.
STAFF_ONLY = [StaffSession(), ApiKeyBearer(Scope.SYNC_TRIGGER), SyncToken()]
# Keys only (their one count covers the trigger and the run pages): staff sessions and the old token are few and
# trusted, and stay unlimited as before.
sync_throttle = KeyRateThrottle("sync")


class SyncTriggerIn(Schema):
    # Optional here so that a missing value gets this endpoint's own 422 naming "source".
    source: str | None = None


class RunOut(Schema):
    id: int
    source: str
    kind: str
    status: str
    status_label: str
    triggered_by: str
    queued_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_seconds: float | None
    created: int
    updated: int
    unchanged: int
    failed: int
    error: str
    report: dict[str, Any]
    breaker: dict[str, Any]
    url: str


class TriggerOut(Schema):
    runs: list[RunOut]


def _run_out(request: HttpRequest, run: IngestionRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "source": run.source,
        "kind": run.kind,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "triggered_by": run.triggered_by,
        "queued_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": run.duration_seconds,
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "failed": run.failed_count,
        "error": run.error,
        "report": run.report,
        "breaker": breaker_status(run.source),
        "url": request.build_absolute_uri(f"/api/v1/sync/runs/{run.pk}"),
    }


def _who(request: HttpRequest) -> str:
    key = getattr(request, "auth", None)
    if isinstance(key, ApiKey):
        return f"api: key {key.prefix} ({key.name})"[:150]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"api: {user.get_username()}"
    return "api: token"


@router.post(
    "/sync/trigger", auth=STAFF_ONLY, response={202: TriggerOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Queue a sync of one source or all", throttle=[sync_throttle],
)
def sync_trigger(request: HttpRequest, payload: SyncTriggerIn) -> Status[dict[str, Any]]:
    """Queue a run of one source (`municipal_money`, `dws`, ...) or `all`. Answers 202 with the run(s); a run
    refused because another of the same source is under way is returned with status `refused`."""
    source = (payload.source or "").strip().lower()
    choices = ", ".join([*source_names(), "all"])
    if not source:
        raise ApiError("source", _("source is required: %(choices)s.") % {"choices": choices})
    if source != "all":
        try:
            source = source_class(source).name
        except UnknownSource:
            raise ApiError("source", _("Unknown source %(source)r: use %(choices)s.")
                           % {"source": payload.source, "choices": choices}) from None
    runs = []
    with transaction.atomic():
        for name in source_names() if source == "all" else (source,):
            try:
                runs.append(ingestion_queue_run(source=name, triggered_by=_who(request)))
            except UnknownSource as error:
                raise ApiError(error.field, str(error)) from error
    for run in runs:
        run.refresh_from_db()
    return Status(202, {"runs": [_run_out(request, run) for run in runs]})


@router.get("/sync/runs/{run_id}", auth=STAFF_ONLY,
            response={200: RunOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
            summary="One ingestion run: progress and result", throttle=[sync_throttle])
def sync_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = IngestionRun.objects.filter(pk=run_id).first()
    if run is None:
        raise not_found("run_id", _("No ingestion run %(id)s.") % {"id": run_id})
    return _run_out(request, run)
