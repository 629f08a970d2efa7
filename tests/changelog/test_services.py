"""The change-recording service: one row per change, a batch shaped as the single path, one announcement per
transaction after it commits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from changelog.models import ChangeSource, ChangeType, DataChangeLog, EntityType
from changelog.services import ChangeEntry, change_log_record, change_log_record_many
from changelog.signals import changes_committed
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

SHAPED = ("entity_type", "entity_id", "change_type", "source", "old_values", "new_values", "field_changes",
          "municipality_code", "project_id", "project_status", "project_type")


@pytest.fixture
def announcements() -> list[Any]:
    received: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(sender)

    changes_committed.connect(receiver, dispatch_uid="test-announcements")
    yield received
    changes_committed.disconnect(dispatch_uid="test-announcements")


def test_a_batch_records_each_entry_exactly_as_the_single_path_does() -> None:
    project = ProjectFactory(status="implementation", project_type="Bulk water")
    entry = ChangeEntry(
        entity_type=EntityType.PROJECT, entity_id=project.pk, change_type=ChangeType.UPDATED,
        source=ChangeSource.ETL_PIPELINE, old_values={"budget_allocated": Decimal("10.50"), "name": "Same"},
        new_values={"budget_allocated": Decimal("12.00"), "name": "Same"}, municipality_code="CPT", project=project,
    )
    before = DataChangeLog.objects.count()
    single = change_log_record(**{name: getattr(entry, name) for name in entry.__dataclass_fields__})
    [batched] = change_log_record_many(entries=[entry])
    assert batched.pk is not None and DataChangeLog.objects.count() == before + 2
    assert {name: getattr(batched, name) for name in SHAPED} == {name: getattr(single, name) for name in SHAPED}
    assert single.field_changes == ["budget_allocated"]  # an unchanged value is not a change
    assert (single.project_id, single.project_status, single.project_type) == (
        str(project.pk), "implementation", "Bulk water")


def test_changes_are_announced_once_per_transaction_and_only_after_it_commits(
    announcements: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for number in range(3):
            change_log_record(entity_type=EntityType.MUNICIPALITY, entity_id=number, change_type=ChangeType.CREATED,
                              source=ChangeSource.ETL_PIPELINE, new_values={"code": f"X{number}"})
        change_log_record_many(entries=[ChangeEntry(
            entity_type=EntityType.MUNICIPALITY, entity_id=9, change_type=ChangeType.CREATED,
            source=ChangeSource.ETL_PIPELINE)])
        assert announcements == []
    assert announcements == [DataChangeLog]


def test_a_rolled_back_change_is_neither_kept_nor_announced(
    announcements: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    before = DataChangeLog.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        change_log_record(entity_type=EntityType.MUNICIPALITY, entity_id=1, change_type=ChangeType.CREATED,
                          source=ChangeSource.ETL_PIPELINE)
        raise RuntimeError("the writing service failed")
    assert announcements == [] and DataChangeLog.objects.count() == before


def test_an_empty_batch_writes_and_announces_nothing(
    announcements: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert change_log_record_many(entries=[]) == []
    assert announcements == []
