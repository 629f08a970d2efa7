"""The one NinjaAPI: each app contributes a tagged Router."""

from __future__ import annotations

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from alerts.api import router as alerts_router
from bukaamanzi.apitools import ApiError, error_response
from ingestion.api import router as ingestion_router
from insights.api import router as insights_router
from municipalities.api import router as municipalities_router
from projects.api import exports_router, map_router
from projects.api import router as projects_router
from realtime.api import router as realtime_router
from reports.api import router as reports_router
from webhooks.api import router as webhooks_router

api = NinjaAPI(
    title="Buka Amanzi API",
    version="1.0.0",
    description=(
        "Water and sanitation projects in South Africa, with community reports. Data: National Treasury "
        "(Municipal Money) and the Department of Water and Sanitation (Project Monitoring Dashboard)."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/municipalities", municipalities_router)
api.add_router("/projects", projects_router)
api.add_router("/reports", reports_router)
api.add_router("/map", map_router)
api.add_router("/exports", exports_router)
api.add_router("/alerts", alerts_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/insights", insights_router)
api.add_router("", ingestion_router)
api.add_router("", realtime_router)


# --- One error shape: {"detail": [{"field": ..., "message": ...}]} (see bukaamanzi/apitools.py) -------------
logger = logging.getLogger("bukaamanzi.api")


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(request, exc.errors, exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """ninja's own checks (a page that is not a number, a missing parameter): name the field, in words."""
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body", "form")]
        message = str(error.get("msg", _("Invalid value."))).removeprefix("Value error, ")
        errors.append((location[0] if location else None, message))
    return error_response(request, errors, 422)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, [(None, _("Not found."))], 404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 429:
        # A throttle that names its own limit (apikeys.auth.KeyRateThrottle: the key's) leaves its message here.
        message = getattr(request, "rate_limit_message", None) or _(
            "Too many requests from your address: wait before trying again (see Retry-After).")
    else:
        message = str(exc)
    return error_response(request, [(None, message)], exc.status_code)


@api.exception_handler(MultiPartParserError)
@api.exception_handler(SuspiciousOperation)
def _bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A malformed multipart body or one past Django's upload limits is the client's error, not a 500.
    return error_response(request, [(None, _("The request body could not be read: %(reason)s") % {"reason": exc})],
                          400)


@api.exception_handler(DatabaseError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The database is down or out of connections: fail fast with a 503 the client may retry (docs/deploy.md).
    logger.error("API request without a database on %s %s: %s", request.method, request.path, exc)
    response = error_response(request, [(None, _("The database is unavailable just now; try again shortly."))], 503)
    response["Retry-After"] = "30"
    return response


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(request, [(None, _("Something went wrong on our side; it has been logged."))], 500)
