"""PreparedValues gives what the queryset's values() gives, on the database under test, for any id."""

import uuid
from decimal import Decimal

import pytest

from bukaamanzi.prepared import PreparedValues
from changelog.models import DataChangeLog, EntityType
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
