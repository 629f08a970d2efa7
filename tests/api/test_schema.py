"""The OpenAPI schema is valid and a property-based run over it (schemathesis) finds no server error."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.factories import ProjectFactory, ReportFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


def test_the_openapi_schema_is_valid_openapi_3_and_documents_every_endpoint():
    document = Client().get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert {
        "/api/v1/municipalities", "/api/v1/municipalities/{municipality_id}",
        "/api/v1/municipalities/{municipality_id}/projects", "/api/v1/projects", "/api/v1/projects/{project_id}",
        "/api/v1/reports", "/api/v1/reports/{report_id}/vote", "/api/v1/map/projects",
        "/api/v1/exports/projects.csv", "/api/v1/exports/projects.geojson", "/api/v1/exports/projects.oc4ids.json",
        "/api/v1/health", "/api/v1/pipeline/status",
    } <= paths
    # schemathesis refuses a schema that is not valid OpenAPI when it builds the operations
    assert all(result.ok() for result in schema.get_all_operations())


@pytest.fixture
def _data(db, settings):
    settings.REPORT_RATE_LIMIT = "100000/h"
    settings.AFFECTED_RATE_LIMIT = "100000/h"
    ReportFactory(project=ProjectFactory())
    # The real WSGI handler closes the database connection after each request (Django's test client stops it
    # doing so); closing it would lose the test's transaction, so do as the test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("_data")
@schema.exclude(path="/api/v1/sync/trigger").parametrize()
@hypothesis_settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.filter_too_much])
def test_no_input_makes_the_api_fail_or_break_its_schema(case):
    # The WSGI transport does not decode gzip, which GZipMiddleware would otherwise apply.
    case.call_and_validate(headers={"Accept-Encoding": "identity"},
                           checks=[not_a_server_error, response_schema_conformance])
