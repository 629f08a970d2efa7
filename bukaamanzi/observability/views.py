"""`/metrics` in Prometheus' text format: off unless METRICS_ENABLED (then a 404, as for any unknown page), and
answered only to a scraper that passes every protection configured: METRICS_TOKEN as `Authorization: Bearer`,
and/or an address in METRICS_ALLOW (the client address as API_TRUSTED_PROXIES reads it)."""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from bukaamanzi.apitools import client_address
from bukaamanzi.observability.collectors import DatabaseCollector, forget_dead_processes


class _ThisProcess:
    """The default registry (this process's instruments, its CPU and memory) when there is one process only."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def _refusal(request: HttpRequest) -> HttpResponse | None:
    if settings.METRICS_TOKEN:
        header = request.headers.get("Authorization", "")
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                  settings.METRICS_TOKEN.encode()):
            response = HttpResponse(_("Authorization: a valid metrics bearer token is required."), status=401,
                                    content_type="text/plain; charset=utf-8")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    if settings.METRICS_ALLOW:
        try:
            address = ipaddress.ip_address(client_address(request))
        except ValueError:
            address = None
        if address is None or not any(address in network for network in settings.METRICS_ALLOW):
            return HttpResponse(_("Client address: not in the metrics allow-list."), status=403,
                                content_type="text/plain; charset=utf-8")
    return None


def registry() -> CollectorRegistry:
    """A registry for one scrape: every process's instruments (multiprocess mode) or this one's, and the
    database facts."""
    scrape = CollectorRegistry(auto_describe=False)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        forget_dead_processes(directory)
        MultiProcessCollector(scrape, path=directory)
    else:
        scrape.register(_ThisProcess())  # type: ignore[arg-type]
    scrape.register(DatabaseCollector())  # type: ignore[arg-type]
    return scrape


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
