"""The request type of views behind django-htmx's middleware, which adds `request.htmx` (its documented pattern)."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """Annotation only: at run time the view gets Django's request, with `htmx` set by HtmxMiddleware."""

    htmx: HtmxDetails
