import csv
import io
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.exports import OC4IDS_STATUS, oc4ids_type
from projects.models import Budget, Source, Status
from tests.api.conftest import fields
from tests.factories import ProjectFactory, municipality

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def test_csv_export_streams_a_header_and_one_attributed_row_per_project(api):
    fetched = timezone.now()
    ProjectFactory(name="=cmd|calc", last_scraped_at=fetched)
    ProjectFactory(source=Source.DEMO, is_demo=True, municipality=municipality("ETH"))
    response = api.get("/api/v1/exports/projects.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    assert len(rows) == 2
    by_source = {row["source"]: row for row in rows}
    assert by_source["municipal_money"]["attribution"] == (
        f"National Treasury, Municipal Money (fetched {fetched.date().isoformat()})"
    )
    assert by_source["municipal_money"]["name"] == "'=cmd|calc"  # not run as a spreadsheet formula
    assert by_source["demo"]["is_demo"] == "true" and "not real" in by_source["demo"]["attribution"]


def test_csv_export_applies_the_filters(api):
    ProjectFactory(status=Status.COMPLETED)
    ProjectFactory(status=Status.ON_HOLD)
    rows = list(csv.DictReader(io.StringIO(_body(api.get("/api/v1/exports/projects.csv?status=on_hold")).decode())))
    assert [row["status"] for row in rows] == ["on_hold"]


def test_exports_page_through_more_rows_than_one_chunk(api, monkeypatch):
    monkeypatch.setattr("projects.exports.CHUNK", 3)
    ProjectFactory.create_batch(7)
    rows = list(csv.DictReader(io.StringIO(_body(api.get("/api/v1/exports/projects.csv")).decode())))
    assert len({row["id"] for row in rows}) == 7


def test_geojson_export_is_a_feature_collection_with_attribution(api):
    ProjectFactory(location=None)
    ProjectFactory(source=Source.DEMO, is_demo=True)
    body = json.loads(_body(api.get("/api/v1/exports/projects.geojson")))
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 2
    credits = {s["source"]: s["credit"] for s in body["attribution"]["sources"]}
    assert credits["municipal_money"] == "National Treasury, Municipal Money"
    assert "Demo data" in body["attribution"]["note"]
    geometries = sorted(str(f["geometry"]) for f in body["features"])
    assert geometries[0] == "None"


def test_oc4ids_export_is_a_project_package_with_mapped_codes(api):
    project = ProjectFactory(status=Status.COMPLETED, project_type="Renewal", description="Pipes")
    Budget.objects.create(project=project, financial_year="2023/2024", budget_type="Audited Outcome",
                          amount=Decimal("1234567.89"), source="municipal_money")
    ProjectFactory(status=Status.ON_HOLD, project_type="New")
    package = json.loads(_body(api.get("/api/v1/exports/projects.oc4ids.json")))
    assert package["version"] == "0.9"
    assert {"uri", "publishedDate", "publisher", "projects"} <= set(package)
    by_id = {p["id"]: p for p in package["projects"]}
    first = by_id[str(project.pk)]
    assert first["status"] == "completion" and first["type"] == "rehabilitation"
    assert first["sector"] == ["waterAndWaste"]
    assert first["budget"]["amount"] == {"amount": 1000000, "currency": "ZAR"}
    line = first["budget"]["budgetBreakdown"][0]["budgetBreakdown"][0]
    assert line["amount"]["amount"] == 1234567.89
    assert line["period"] == {"startDate": "2023-07-01", "endDate": "2024-06-30"}
    assert first["publicAuthority"] == {"id": "CPT", "name": "City of Cape Town"}
    assert first["locations"][0]["geometry"]["type"] == "Point"
    on_hold = next(p for p in package["projects"] if p["id"] != str(project.pk))
    assert "status" not in on_hold and on_hold["type"] == "construction"


def test_status_and_type_mappings_use_only_codelist_codes():
    status_codes = {"identification", "preparation", "implementation", "completion", "maintenance",
                    "decommissioning", "decommissioned", "cancelled"}
    assert set(OC4IDS_STATUS.values()) <= status_codes
    assert oc4ids_type("Upgrading", "") == "rehabilitation"
    assert oc4ids_type("", "Replace pump station") == "replacement"
    assert oc4ids_type("Bulk water", "Reservoir") is None


@pytest.mark.parametrize("path", ["projects.csv", "projects.geojson", "projects.oc4ids.json"])
def test_exports_refuse_bad_filters_with_422(api, path):
    response = api.get(f"/api/v1/exports/{path}?bbox=nonsense")
    assert response.status_code == 422 and fields(response) == {"bbox"}
