"""The insights pages: /insights/ and /insights/<province>/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from insights import quality_views, views
from municipalities.models import Province

app_name = "insights"
# Only the nine province codes (either case), so that later routes in this file (/insights/quality/ ...) are reached.
_PROVINCE = "|".join(code for value in Province.values for code in (value, value.lower()))
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.national, name="national"),
    path("csv/<slug:name>.csv", views.figure_csv, name="csv"),
    re_path(rf"^(?P<province>{_PROVINCE})/$", views.province, name="province"),
]

# --- Data quality (insights.quality_views) ---------------------------------------------------------------
urlpatterns += [
    path("data-quality/", quality_views.data_quality, name="data-quality"),
    path("data-quality/records/", quality_views.data_quality_records, name="data-quality-records"),
]
