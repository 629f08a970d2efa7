"""Audit rows and ingestion runs cannot be added, changed or deleted through the admin, superusers included."""

from __future__ import annotations

import pytest
from django.urls import reverse

from changelog.models import AdminAction, DataChangeLog
from ingestion.models import IngestionRun

pytestmark = pytest.mark.django_db


def make_rows() -> dict[str, object]:
    return {
        "changelog_adminaction": AdminAction.objects.create(
            admin_name="thandeka", target_type="report", target_id="1", action="flag", reason="abusive"
        ),
        "changelog_datachangelog": DataChangeLog.objects.create(
            entity_type="report", entity_id="1", change_type="updated", source="admin_action",
            new_values={"status": "flagged"},
        ),
        "ingestion_ingestionrun": IngestionRun.objects.create(source="dws", status="success"),
    }


@pytest.mark.parametrize("model", ["changelog_adminaction", "changelog_datachangelog", "ingestion_ingestionrun"])
def test_audit_rows_cannot_be_added_changed_or_deleted_through_the_admin(superuser_client, model: str) -> None:
    row = make_rows()[model]
    before = {k: v for k, v in row.__dict__.items() if not k.startswith("_")}

    assert superuser_client.get(reverse(f"admin:{model}_add")).status_code == 403
    assert superuser_client.post(reverse(f"admin:{model}_add"), {}).status_code == 403
    change = reverse(f"admin:{model}_change", args=[row.pk])
    shown = superuser_client.get(change)  # a read-only page: no form to submit
    assert shown.status_code == 200 and b'name="_save"' not in shown.content
    assert superuser_client.post(change, {"reason": "rewritten", "status": "failed"}).status_code == 403
    delete = reverse(f"admin:{model}_delete", args=[row.pk])
    assert superuser_client.get(delete).status_code == 403
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403

    changelist = superuser_client.get(reverse(f"admin:{model}_changelist"))
    assert changelist.status_code == 200
    assert b'name="action"' not in changelist.content  # no actions at all, so no bulk delete
    superuser_client.post(reverse(f"admin:{model}_changelist"),
                          {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"})

    row.refresh_from_db()
    assert {k: v for k, v in row.__dict__.items() if not k.startswith("_")} == before


def test_a_moderator_reads_the_audit_trail_but_cannot_change_it(moderator_client) -> None:
    row = make_rows()["changelog_adminaction"]
    url = reverse("admin:changelog_adminaction_change", args=[row.pk])
    assert moderator_client.get(url).status_code == 200
    assert moderator_client.post(url, {"reason": "rewritten"}).status_code == 403
    assert moderator_client.get(reverse("admin:changelog_adminaction_delete", args=[row.pk])).status_code == 403
