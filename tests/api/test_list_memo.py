"""Lists read with their count and page anchors kept per data version (bukaamanzi/listmemo.py) say exactly what
lists read the long way say: every page, every filter, after every kind of write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bukaamanzi.listmemo import ANCHOR_EVERY, MEMO, MIN_ANCHORED_OFFSET, ListMemo, anchorable, from_row
from projects.demo import demo_data_remove
from projects.models import Project, Status
from tests.factories import ReportFactory, municipality

pytestmark = pytest.mark.django_db

ROWS = MIN_ANCHORED_OFFSET + 3 * ANCHOR_EVERY + 37  # deep pages are anchored, and the last page is short


@pytest.fixture(autouse=True)
def fresh_memo():
    MEMO.clear()
    yield
    MEMO.clear()


@pytest.fixture
def many_projects() -> None:
    """Names repeat in runs of seven, so pages start inside runs of equal names and the id breaks the tie."""
    places = [municipality("CPT"), municipality("JHB"), municipality("ETH")]
    statuses = [Status.IMPLEMENTATION, Status.COMPLETED, Status.ON_HOLD]
    Project.objects.bulk_create(
        Project(source="municipal_money", external_id=f"MEMO-{n:05d}", name=f"Scheme {n // 7:04d}",
                municipality=places[n % 3], status=statuses[n % 3], budget_allocated=Decimal(n),
                end_date=dt.date(2025, 1, 1) if n % 2 else None)
        for n in range(ROWS))


def pages(client, query: str, limit: int) -> list[bytes]:
    """Every page of the list, and the one past the end."""
    count = client.get(f"/api/v1/projects?limit=1{query}").json()["count"]
    return [client.get(f"/api/v1/projects?limit={limit}&page={page}{query}").content
            for page in range(1, count // limit + 3)]


@pytest.mark.parametrize(("query", "limit"), [("", 100), ("", 37), ("&status=completed", 50),
                                              ("&municipality_id=CPT", 20), ("&q=scheme%2000", 100)])
def test_every_page_is_the_same_with_the_memo_and_without(client, settings, many_projects, query, limit) -> None:
    settings.API_CACHE_SECONDS = 0
    settings.API_LIST_MEMO = False
    long_way = pages(client, query, limit)
    settings.API_LIST_MEMO = True
    assert pages(client, query, limit) == long_way
    assert pages(client, query, limit) == long_way  # and again, from the kept anchors


def test_a_deep_page_is_neither_counted_nor_skipped_to_once_the_list_is_known(client, settings,
                                                                              many_projects) -> None:
    settings.API_CACHE_SECONDS = 0
    page = MIN_ANCHORED_OFFSET // ANCHOR_EVERY + 2
    client.get(f"/api/v1/projects?limit=100&page={page}")  # counts and reads the anchors
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/api/v1/projects?limit=100&page={page}").json()
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "COUNT(" not in sql.upper()
    assert "OFFSET" not in sql.upper()  # the anchor is the page's first row
    assert body["count"] == ROWS and len(body["items"]) == 100


@pytest.mark.parametrize("write", ["create", "rename", "delete", "moderate"])
def test_a_write_is_seen_on_the_next_read(client, settings, many_projects, write) -> None:
    settings.API_CACHE_SECONDS = 0
    deep = f"/api/v1/projects?limit=100&page={MIN_ANCHORED_OFFSET // ANCHOR_EVERY + 1}"
    before = client.get(deep).json()
    first = Project.objects.order_by("name", "id").first()
    assert first is not None
    if write == "create":
        Project.objects.create(source="municipal_money", external_id="MEMO-NEW", name="AAA first now",
                               municipality=municipality("CPT"))
    elif write == "rename":
        first.name = "ZZZ last now"
        first.save()
    elif write == "delete":  # projects are deleted through a service that logs it (here: demo data removed)
        Project.objects.filter(pk=first.pk).update(is_demo=True)
        demo_data_remove()
    else:  # a write that touches no project row (a report) still moves the data version; nothing must change
        ReportFactory(project=first)
    after = client.get(deep).json()
    settings.API_LIST_MEMO = False
    assert client.get(deep).json() == after
    if write == "create":
        assert after["count"] == before["count"] + 1
        assert after["items"][1]["id"] == before["items"][0]["id"]  # everything moved down by one
    elif write in ("rename", "delete"):
        assert after["items"][0]["id"] == before["items"][1]["id"]  # everything moved up by one


def test_orderings_with_nulls_or_across_relations_are_not_anchored() -> None:
    assert anchorable(Project, ("name", "id"))
    assert anchorable(Project, ("-created_at", "-pk"))
    assert not anchorable(Project, ("end_date", "id"))  # NULLs sort first on one database, last on the other
    assert not anchorable(Project, ("municipality__name", "id"))


@pytest.mark.parametrize("order_by", [("name", "id"), ("-name", "-id"), ("-name", "id"), ("status", "-id")])
def test_from_row_is_the_ordering_from_that_row_on(many_projects, order_by) -> None:
    ordered = list(Project.objects.order_by(*order_by).values_list(*(name.removeprefix("-") for name in order_by)))
    for position in (0, 1, 6, 7, 500, len(ordered) - 1):
        later = Project.objects.filter(from_row(order_by, ordered[position])).order_by(*order_by)
        assert list(later.values_list(*(name.removeprefix("-") for name in order_by))) == ordered[position:]


def test_the_memo_keeps_only_its_newest_lists(many_projects) -> None:
    memo = ListMemo(entries=2)
    queryset = Project.objects.all()
    for version in ("1", "2", "3"):
        memo.locate(("projects", version), queryset, ("name", "id"), 0)
    with CaptureQueriesContext(connection) as queries:
        memo.locate(("projects", "3"), queryset, ("name", "id"), 0)
    assert not queries.captured_queries
    with CaptureQueriesContext(connection) as queries:
        memo.locate(("projects", "1"), queryset, ("name", "id"), 0)
    assert len(queries.captured_queries) == 1  # forgotten: counted again
