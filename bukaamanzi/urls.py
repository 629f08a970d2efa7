from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve as media_serve

from bukaamanzi.api import api
from bukaamanzi.observability.views import metrics

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("metrics", metrics, name="metrics"),  # 404 unless METRICS_ENABLED
    path("i18n/", include("django.conf.urls.i18n")),
    path("municipalities/", include("municipalities.urls")),
    path("reports/", include("reports.urls")),
    path("alerts/", include("alerts.urls")),
    path("open311/v2/", include("open311.urls")),
    path("insights/", include("insights.urls")),
    path("", include("realtime.urls")),
    path("", include("projects.urls")),
]
# Report photos are the only media: cleaned, EXIF-free files. The embedded site has no separate web server, so
# daphne serves them (a proxy in front may take this over by serving MEDIA_ROOT at MEDIA_URL itself).
urlpatterns += [
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", media_serve, {"document_root": settings.MEDIA_ROOT}),
]
if settings.BENCH_VIEWS:  # the load test's bare one-SELECT baseline (bench/api/); never on in production
    urlpatterns += [path("bench/", include("bench.api.urls"))]

# 404 uses Django's handler with templates/404.html; 500 renders without touching the database.
handler500 = "projects.views.server_error"
