"""PreparedValues (one id) and PreparedValuesForIds (a list) give what the queryset's values() gives, on the database
under test, for any ids."""

import uuid
from decimal import Decimal

import pytest

from bukaamanzi.prepared import PreparedValues, PreparedValuesForIds
from changelog.models import DataChangeLog, EntityType
from projects.api import _list_rows
from projects.detail import _history_rows, _project_rows, _report_rows
from projects.models import Budget, Project
from projects.services import project_correct
from reports.models import Report
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_the_detail_queries_match_their_querysets_row_for_row():
    project = ProjectFactory(budget_allocated=Decimal("1234.50"))
    other = ProjectFactory()
    for year in ("2023/2024", "2022/2023"):
        Budget.objects.create(project=project, financial_year=year, budget_type="Original Budget",
                              amount=Decimal("10.25"), source=project.source)
    project_correct(project=project, values={"name": "Renamed"}, moderator="mod", reason="typo")
    ReportFactory(project=project)
    for prepared in (_project_rows, _history_rows, _report_rows):
        for pk in (project.pk, other.pk, uuid.uuid4()):
            assert prepared(pk) == list(prepared._build(pk)), prepared
    assert DataChangeLog.objects.for_entity(EntityType.PROJECT, project.pk).exists()
    assert Report.objects.filter(project=project).exists()


def test_a_query_without_the_id_cannot_be_prepared():
    prepared = PreparedValues(lambda pk: Project.objects.filter(name="x").values("id"))
    with pytest.raises(ValueError, match="placeholder"):
        prepared(uuid.uuid4())


def test_the_list_rows_match_their_queryset_for_any_ids_and_any_number_of_them():
    projects = [ProjectFactory(budget_allocated=Decimal("99.90")) for _ in range(5)]
    ids = [project.pk for project in projects]
    for chosen in (ids, ids[:1], ids[2:4], [*ids[:2], uuid.uuid4()], [uuid.uuid4()]):
        assert _list_rows(chosen) == list(_list_rows._build(chosen)), chosen
    assert _list_rows([]) == []
    assert [row["id"] for row in _list_rows(ids)] == sorted(ids, key=lambda pk: (Project.objects.get(pk=pk).name, pk))


def test_a_query_without_every_id_cannot_be_prepared():
    prepared = PreparedValuesForIds(lambda ids: Project.objects.filter(pk__in=ids[:1]).values("id"))
    with pytest.raises(ValueError, match="placeholder"):
        prepared([uuid.uuid4(), uuid.uuid4()])
