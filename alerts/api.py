"""`POST /api/v1/alerts`: sign up to an email alert; the same service as the /alerts/ page.

Answers 202 whether or not the address is known (nobody learns who follows what); the alert starts only when the
link in the confirmation email is followed. Limited per client address (ALERT_SIGNUP_RATE_LIMIT) and per address
(ALERT_CONFIRMATIONS_PER_ADDRESS_PER_DAY), each a 429.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router

from alerts.schemas import AlertAccepted, AlertIn
from alerts.services import AlertError, TooManyConfirmations, alert_subscribe, alert_target
from bukaamanzi.apitools import ApiError, ErrorOut, json_object, json_response
from reports.ratelimit import ClientRateThrottle

router = Router(tags=["Alerts"])
alert_signup_throttle = ClientRateThrottle("alerts", "ALERT_SIGNUP_RATE_LIMIT")


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError(None, _("Send the sign-up as application/json."), status=415)
    return json_object(request)


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(name, _("%(field)s must be text.") % {"field": name})
    return value or ""


@router.post("", response={202: AlertAccepted, 415: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             summary="Follow a project, a municipality or an area by email", operation_id="alerts_create",
             throttle=[alert_signup_throttle],
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": AlertIn.model_json_schema()}}}})
def create_alert(request: HttpRequest) -> HttpResponse:
    data = _body(request)
    for name in ("lat", "lng", "radius_km"):
        if isinstance(data.get(name), bool | list | dict):
            raise ApiError(name, _("%(field)s must be a number.") % {"field": name})
    try:
        target = alert_target(kind=_text(data, "kind"), project_id=_text(data, "project_id"),
                              municipality=_text(data, "municipality"), lat=data.get("lat"), lng=data.get("lng"),
                              radius_km=data.get("radius_km"))
        alert_subscribe(email=_text(data, "email"), target=target, frequency=_text(data, "frequency") or "immediate",
                        language=get_language() or "en")
    except AlertError as exc:
        raise ApiError(exc.field, exc.message) from exc
    except TooManyConfirmations as exc:
        raise ApiError("email", _("Too many confirmation emails were sent to this address today; try tomorrow."),
                       status=429) from exc
    return json_response(request, {"status": "confirmation_sent", "detail": str(
        _("Check the mailbox: the alert starts when the link in the confirmation email is followed."))}, status=202)
