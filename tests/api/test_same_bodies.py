"""The speed work changed how bodies are built, never what they say: orjson writes the bytes the standard library
wrote, and a page read in two steps (keys, then rows) holds the rows one OFFSET query read."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.http import QueryDict
from django.utils.translation import gettext_lazy

from bukaamanzi.apitools import dumps, paginate
from projects.api import page_body
from projects.detail import project_detail_body
from projects.filters import ProjectFilterForm
from projects.maplayer import indexed, map_layer, with_lng_lat
from projects.models import Budget, Project, Status
from projects.schemas import ITEM_FIELDS
from tests.factories import ProjectFactory, ReportFactory, municipality

pytestmark = pytest.mark.django_db


def standard_library(data: Any) -> bytes:
    """What the API wrote before orjson."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture
def projects() -> list[Project]:
    made = []
    for n, (status, point) in enumerate([(Status.IMPLEMENTATION, (18.42, -33.92)), (Status.COMPLETED, (28.05, -26.2)),
                                         (Status.ON_HOLD, None), (Status.PREPARATION, (31.02, -29.85))]):
        project = ProjectFactory(name=f"Pipeline ŋ {n} – “Ext.”", status=status, location=None,
                                 end_date=dt.date(2024, 3, 31), progress_percentage=Decimal("33.3"),
                                 municipality=municipality("CPT" if n % 2 else "JHB"))
        if point:
            Project.objects.filter(pk=project.pk).update(location=f"SRID=4326;POINT({point[0]} {point[1]})")
        Budget.objects.create(project=project, financial_year="2023/2024", budget_type="Audited Outcome",
                              amount=Decimal("1234.50"), source="municipal_money")
        made.append(project)
    ReportFactory(project=made[0])
    return made


CRAFTED: list[Any] = [
    {"aware": dt.datetime(2026, 12, 3, 12, 30, 5, 123456, tzinfo=dt.UTC), "naive": dt.datetime(2026, 1, 2, 3, 4, 5),
     "offset": dt.datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=dt.timezone(dt.timedelta(hours=2))),
     "date": dt.date(2026, 2, 28), "time": dt.time(7, 8, 9, 10), "duration": dt.timedelta(days=1, seconds=5)},
    {"money": Decimal("1234567.89"), "zero": Decimal("0.00"), "exp": Decimal("1E+3"), "id": uuid.uuid4()},
    {"floats": [28.123456789, -33.9249, 0.1 + 0.2, 1.0, -0.0, 5e-324, 123456789.0], "ints": [0, -1, 2**53]},
    {"text": "Ulwazi lwamanzi: “quotes”, é, ŋ, 水, \u2028, tab\t, \"\\",
     "lazy": gettext_lazy("No project has this id.")},
    {"nested": [{"a": None, "b": True}, [], {}], 1: "an int key"},
]


@pytest.mark.parametrize("data", CRAFTED)
def test_dumps_writes_the_bytes_the_standard_library_wrote(data: Any) -> None:
    assert dumps(data) == standard_library(data)


def test_the_bodies_of_lists_details_and_the_map_are_written_the_same(projects: list[Project]) -> None:
    bodies = [page_body(Project.objects.all(), 1, 100)]
    bodies += [project_detail_body(project.pk) for project in projects]
    form = ProjectFilterForm(QueryDict("bbox=16,-35,33,-22"))
    assert form.is_valid()
    for body in bodies:
        assert body is not None
        assert dumps(body) == standard_library(body)
    # The map layer is written as bytes from pieces: read back, the standard library writes those same bytes.
    layer = map_layer(form, zoom=6, version="test")
    assert standard_library(json.loads(layer)) == layer


@pytest.mark.parametrize("query", ["", "status=implementation", "bbox=18,-34.5,29,-25", "q=Pipeline",
                                   "province=GT", "municipality=CPT"])
def test_a_page_read_in_two_steps_holds_the_rows_one_query_read(projects: list[Project], query: str) -> None:
    for n in range(7):
        ProjectFactory(name=f"Aaa {n % 3}", municipality=municipality("CPT"))  # equal names: the id breaks ties
    form = ProjectFilterForm(QueryDict(query))
    assert form.is_valid(), form.errors
    queryset = indexed(form.apply(Project.objects.all()), form)
    ordered = with_lng_lat(queryset).order_by("name", "id")
    for page, limit in [(1, 3), (2, 3), (3, 3), (4, 3), (1, 100), (9, 3)]:
        current, rows = paginate(queryset, page, limit, ITEM_FIELDS, order_by=("name", "id"), annotate=with_lng_lat)
        offset = (page - 1) * limit
        assert rows == list(ordered.values(*ITEM_FIELDS)[offset : offset + limit]), (query, page, limit)
        assert current.count == ordered.count()
