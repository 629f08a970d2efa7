"""Helpers for the metrics and logs tests: /metrics switched on, and its answer parsed by prometheus-client's own
parser (as Prometheus would read it)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

TOKEN = "scrape-secret-0123456789"

Samples = dict[str, list[Sample]]


@pytest.fixture
def metrics_on(settings) -> None:
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = []


def parse(text: str) -> Samples:
    """Samples by name (`..._bucket`, `..._count` included), every family of the exposition."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The value of the one sample of `name` whose labels include `labels`; None if there is none."""
    found = [s.value for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else None


@pytest.fixture
def scrape(metrics_on: None) -> Callable[[], Samples]:
    def read() -> Samples:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=")
        return parse(response.content.decode())

    return read
