"""A moderator corrects a project field in the admin, which locks it against ingestion; unlocking lifts that."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from changelog.models import AdminAction, DataChangeLog
from projects.models import Project
from projects.services import project_upsert_from_source
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def form_data(project: Project, **changes: object) -> dict[str, object]:
    """The change form as the browser submits it, unchanged unless `changes` say otherwise."""
    data: dict[str, object] = {
        "name": project.name, "description": project.description, "project_type": project.project_type,
        "status": project.status, "start_date": project.start_date or "", "end_date": project.end_date or "",
        "location": project.location.geojson if project.location else "", "address": project.address,
        "ward": project.ward, "budget_allocated": project.budget_allocated or "",
        "budget_spent": project.budget_spent or "", "progress_percentage": project.progress_percentage or "",
        "contractor": project.contractor, "municipality": project.municipality_id or "", "reason": "",
        "budgets-TOTAL_FORMS": "0", "budgets-INITIAL_FORMS": "0", "budgets-MIN_NUM_FORMS": "0",
        "budgets-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def ingest(project: Project, **values: object):  # type: ignore[no-untyped-def]
    """One ingestion run's upsert of this project, as the sources call it."""
    with transaction.atomic():
        return project_upsert_from_source(source=project.source, external_id=project.external_id, values=values)


def test_a_correction_in_the_admin_locks_the_field_and_records_old_and_new_values(moderator_client) -> None:
    project = ProjectFactory(source="municipal_money", budget_spent=Decimal("250000.00"), status="implementation")
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = moderator_client.post(url, form_data(
        project, budget_spent="275000.00", status="completed", reason="Municipal annual report 2024, p. 31",
    ))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors

    project.refresh_from_db()
    assert project.budget_spent == Decimal("275000.00") and project.status == "completed"
    assert project.locked_fields == ["budget_spent", "status"]
    action = AdminAction.objects.get(target_type="project", target_id=str(project.pk))
    assert (action.action, action.admin_name, action.reason) == (
        "correct", "thandeka", "Municipal annual report 2024, p. 31"
    )
    assert action.metadata["old"]["budget_spent"] == "250000.00"
    assert action.metadata["new"]["budget_spent"] == "275000.00"
    change = DataChangeLog.objects.for_entity("project", project.pk).get()
    assert change.source == "admin_action"
    assert change.old_values["status"] == "implementation" and change.new_values["status"] == "completed"
    assert change.new_values["locked_fields"] == ["budget_spent", "status"]
    assert "thandeka" not in str(change.new_values)  # who did it stays in the moderation log


def test_a_correction_without_a_reason_is_refused(moderator_client) -> None:
    project = ProjectFactory(budget_spent=Decimal("250000.00"))
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = moderator_client.post(url, form_data(project, budget_spent="1.00"))
    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    project.refresh_from_db()
    assert project.budget_spent == Decimal("250000.00") and project.locked_fields == []
    assert not AdminAction.objects.exists()


def test_saving_without_a_change_writes_nothing(moderator_client) -> None:
    project = ProjectFactory()
    response = moderator_client.post(reverse("admin:projects_project_change", args=[project.pk]), form_data(project))
    assert response.status_code == 302
    assert not AdminAction.objects.exists()
    assert not DataChangeLog.objects.for_entity("project", project.pk).exists()


def test_a_locked_field_survives_an_ingestion_run_that_changes_it_and_the_skipped_value_is_recorded(
    moderator_client,
) -> None:
    project = ProjectFactory(budget_spent=Decimal("250000.00"), name="Old name")
    moderator_client.post(reverse("admin:projects_project_change", args=[project.pk]), form_data(
        project, budget_spent="300000.00", reason="Confirmed with the municipality",
    ))

    outcome = ingest(project, budget_spent=Decimal("999999.00"), name="New name from the source")

    project.refresh_from_db()
    assert project.budget_spent == Decimal("300000.00")
    assert project.name == "New name from the source"  # fields not locked still follow the source
    assert outcome.skipped_locked == {"budget_spent": "999999.00"}
    run_entry = DataChangeLog.objects.for_entity("project", project.pk).filter(source="etl_pipeline").get()
    assert run_entry.new_values["skipped_locked"] == {"budget_spent": "999999.00"}
    assert "budget_spent" not in run_entry.old_values


def test_unlocking_lets_the_next_ingestion_run_set_the_field_again(moderator_client) -> None:
    project = ProjectFactory(budget_spent=Decimal("250000.00"))
    url = reverse("admin:projects_project_change", args=[project.pk])
    moderator_client.post(url, form_data(project, budget_spent="300000.00", reason="Confirmed"))
    ingest(project, budget_spent=Decimal("999999.00"))  # skipped: locked
    project.refresh_from_db()

    response = moderator_client.post(url, form_data(project, unlock_fields=["budget_spent"], reason="Source fixed"))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.locked_fields == []
    unlock = AdminAction.objects.get(action="unlock")
    assert unlock.reason == "Source fixed" and unlock.metadata["fields"] == ["budget_spent"]
    assert DataChangeLog.objects.for_entity("project", project.pk).filter(
        source="admin_action", new_values__action="unlock"
    ).count() == 1

    # The source says exactly what it said last time: the unlocked field still takes its value.
    ingest(project, budget_spent=Decimal("999999.00"))
    project.refresh_from_db()
    assert project.budget_spent == Decimal("999999.00")


def test_a_field_cannot_be_changed_and_unlocked_in_one_save(moderator_client) -> None:
    project = ProjectFactory(locked_fields=["budget_spent"])
    response = moderator_client.post(
        reverse("admin:projects_project_change", args=[project.pk]),
        form_data(project, budget_spent="5.00", unlock_fields=["budget_spent"], reason="x"),
    )
    assert response.status_code == 200
    assert "unlock_fields" in response.context["adminform"].form.errors
    assert not AdminAction.objects.exists()


def test_the_project_page_shows_its_corrections(moderator_client) -> None:
    project = ProjectFactory()
    url = reverse("admin:projects_project_change", args=[project.pk])
    moderator_client.post(url, form_data(project, contractor="Aqua Builders", reason="Tender notice"))
    page = moderator_client.get(url).content.decode()
    assert "Tender notice" in page and "thandeka" in page
