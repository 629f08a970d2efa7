"""While the database is down, pages answer the friendly 503 page and the API a 503 error, both saying to retry."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: BaseDatabaseWrapper) -> None:
        raise OperationalError('connection to server on socket "/var/pg/.s.PGSQL.5432" failed')

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)


def test_a_page_answers_the_friendly_503_page_with_retry_after(database_down: None) -> None:
    response = Client(raise_request_exception=False).get("/municipalities/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "database is not answering" in response.content.decode()


def test_the_api_answers_503_naming_the_database(database_down: None) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/projects")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "database is unavailable" in response.content.decode()


def test_health_says_the_database_is_down(database_down: None) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/health")
    assert response.status_code == 503 and response.json()["database"] == "unavailable"
