"""The insights pages: /insights/ and /insights/<province>/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insights import quality_views

app_name = "insights"
urlpatterns: list[URLPattern | URLResolver] = []

# --- Data quality (insights.quality_views) ---------------------------------------------------------------
urlpatterns += [
    path("data-quality/", quality_views.data_quality, name="data-quality"),
    path("data-quality/records/", quality_views.data_quality_records, name="data-quality-records"),
]
