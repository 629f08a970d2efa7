"""Open311 GeoReport v2 at /open311/v2/ (docs/open311.md)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "open311"
urlpatterns: list[URLPattern | URLResolver] = []
