from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from projects.models import Project, RedFlag, Status
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("progress", [Decimal("-1"), Decimal("100.01"), Decimal("250")])
def test_progress_outside_0_to_100_is_refused_by_the_database(progress: Decimal) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectFactory(progress_percentage=progress)


@pytest.mark.parametrize("progress", [Decimal("0"), Decimal("100"), None])
def test_progress_at_the_edges_or_unknown_is_accepted(progress: Decimal | None) -> None:
    assert ProjectFactory(progress_percentage=progress).pk


def test_a_duplicate_source_and_external_id_is_refused() -> None:
    ProjectFactory(source="dws", external_id="P-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectFactory(source="dws", external_id="P-1")
    assert ProjectFactory(source="municipal_money", external_id="P-1").pk  # another source may reuse it


def test_money_stays_decimal_to_the_cent_after_a_round_trip() -> None:
    project = ProjectFactory(budget_allocated=Decimal("1234567890123.45"), budget_spent=Decimal("0.10"))
    project.refresh_from_db()
    assert project.budget_allocated == Decimal("1234567890123.45")
    assert isinstance(project.budget_spent, Decimal)
    assert project.budget_spent + Decimal("0.20") == Decimal("0.30")


def test_project_location_may_be_unknown() -> None:
    project = ProjectFactory(location=None)
    project.refresh_from_db()
    assert project.location is None


def test_red_flags_follow_budget_dates_and_status() -> None:
    project = ProjectFactory(budget_allocated=Decimal("100"), budget_spent=Decimal("150"), end_date="2020-01-01")
    project.refresh_from_db()
    assert RedFlag.OVER_BUDGET in project.red_flags and RedFlag.OVERDUE in project.red_flags
    assert set(Project.objects.over_budget()) == {project} == set(Project.objects.overdue())
    project.status = Status.COMPLETED
    assert RedFlag.OVERDUE not in project.red_flags


def test_an_amount_sent_again_in_another_notation_is_not_a_change() -> None:
    from changelog.models import DataChangeLog
    from projects.services import project_upsert_from_source

    values = {"name": "Pipe", "progress_percentage": Decimal("5.00"), "budget_allocated": Decimal("100.00")}
    project_upsert_from_source(source="dws", external_id="N-1", values=values)
    before = DataChangeLog.objects.count()
    outcome = project_upsert_from_source(
        source="dws", external_id="N-1",
        values={**values, "progress_percentage": Decimal("5"), "budget_allocated": Decimal("100")},
    )
    assert outcome.action == "unchanged" and DataChangeLog.objects.count() == before
