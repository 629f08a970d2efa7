"""The page a locked-out admin log-in gets (django-axes' AXES_LOCKOUT_CALLABLE): the admin's look, in the
user's language, saying how long to wait, and never whether the user name exists."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def lockout_response(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    context = {**admin.site.each_context(request), "failure_limit": settings.AXES_FAILURE_LIMIT,
               "minutes": settings.AXES_COOLOFF_MINUTES}
    response = TemplateResponse(request, "admin/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    return response.render()
