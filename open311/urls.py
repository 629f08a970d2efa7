"""Open311 GeoReport v2 at /open311/v2/ (docs/open311.md). Every endpoint ends in `.json` or `.xml`; the format
is captured whatever it is, so that an unknown one gets the specification's 404 rather than Django's page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from open311 import views

app_name = "open311"
FMT = r"\.(?P<fmt>[^./]+)"
urlpatterns: list[URLPattern | URLResolver] = [
    re_path(rf"^discovery{FMT}$", views.discovery, name="discovery"),
    re_path(rf"^services{FMT}$", views.services, name="services"),
    re_path(rf"^services/(?P<service_code>[^/]+?){FMT}$", views.service_definition, name="service"),
    re_path(rf"^requests{FMT}$", views.requests, name="requests"),
    re_path(rf"^requests/(?P<request_id>[^/]+?){FMT}$", views.request_detail, name="request"),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}$", views.token, name="token"),
    path("", views.not_found, name="root"),
    re_path(r"^(?P<path>.+)$", views.not_found),
]
