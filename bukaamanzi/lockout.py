"""django-axes' two hooks: the client address it locks by (AXES_CLIENT_IP_CALLABLE) and the page a locked-out
admin log-in gets (AXES_LOCKOUT_CALLABLE): the admin's look, in the user's language, saying how long to wait, and
never whether the user name exists."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from bukaamanzi.apitools import client_address


def client_ip(request: HttpRequest) -> str | None:
    """The address the rate limits use (REMOTE_ADDR, or X-Forwarded-For through API_TRUSTED_PROXIES), when it is
    an IP address: axes stores it in an address column, which refuses anything else (a proxy's "unknown")."""
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def lockout_response(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    context = {**admin.site.each_context(request), "failure_limit": settings.AXES_FAILURE_LIMIT,
               "minutes": settings.AXES_COOLOFF_MINUTES}
    response = TemplateResponse(request, "admin/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    return response.render()
