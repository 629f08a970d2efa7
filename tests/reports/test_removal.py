"""Removal for illegal content: files and rows gone, the text gone from every public page, API answer, feed and
live replay, and a tombstone AdminAction that keeps no removed text."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from alerts.models import Alert, AlertItem, AlertKind, Subscriber
from changelog.models import AdminAction, ChangeType, DataChangeLog, EntityType
from realtime.relay import wire_message
from reports.affected import affected_add
from reports.flags import flag_add
from reports.lifecycle import report_mark_duplicate, update_add
from reports.models import Affected, Flag, Report, ReportPhoto, ReportState, ReportType, ReportUpdate, UpdatePhoto
from reports.removal import report_delete, update_delete
from reports.services import PhotoUpload, ReportError, report_submit
from tests.factories import ProjectFactory
from tests.reports.test_photos import photo_bytes

pytestmark = pytest.mark.django_db

ILLEGAL_TITLE = "Zanele Dube's ID number 8001015009087"
ILLEGAL_TEXT = "Her home address is 12 Nkosi Street"
UPDATE_TEXT = "Call Sipho on 082 555 0199 for the key"


def submitted(**kwargs: object) -> Report:
    fields: dict[str, object] = {
        "title": ILLEGAL_TITLE, "description": ILLEGAL_TEXT, "report_type": ReportType.ISSUE, "lng": 18.43,
        "lat": -33.93, "name": "Mpho Secret", "email": "mpho@example.org",
        "photos": [PhotoUpload(photo_bytes((300, 200)), "a.jpg", "An identity document")], **kwargs}
    return report_submit(**fields)  # type: ignore[arg-type]


def public_text(client, report_pk: int, project_id: object) -> str:  # type: ignore[no-untyped-def]
    """Everything public that could carry a report's text, joined."""
    bodies = []
    for url in (f"/reports/{report_pk}/", f"/projects/{project_id}/", f"/api/v1/reports/{report_pk}",
                "/api/v1/reports", f"/api/v1/projects/{project_id}", f"/projects/{project_id}/feed/rss/",
                f"/projects/{project_id}/feed/atom/"):
        response = client.get(url)
        bodies.append(response.content.decode())
    # What a live client replaying from the start receives.
    bodies += [json.dumps(wire_message(row), ensure_ascii=False) for row in DataChangeLog.objects.all()]
    return "\n".join(bodies)


def photo_names(photos: list) -> list[str]:  # type: ignore[type-arg]
    return [name for photo in photos for name in (photo.image.name, photo.thumbnail.name, photo.card.name)]


def test_a_removed_report_takes_its_rows_and_files_with_it(client, django_capture_on_commit_callbacks) -> None:
    project = ProjectFactory()
    report = submitted(project=project)
    update = update_add(report=report, text=UPDATE_TEXT, photos=[PhotoUpload(photo_bytes((200, 200)), "u.jpg")])
    flag_add(report=report, update=None, reason="personal_information", text="", session_key="s1", address="10.0.0.1")
    affected_add(report=report, project=None, session_key="s2", address="10.0.0.2")
    photos = [*report.photos.all(), *update.photos.all()]
    files = photo_names(photos)
    assert all(client.get(settings.MEDIA_URL + name).status_code == 200 for name in files)
    with django_capture_on_commit_callbacks(execute=True):
        report_delete(report=report, moderator="thandeka", reason="Identity document")
    assert not Report.objects.filter(pk=report.pk).exists()
    assert not ReportUpdate.objects.filter(pk=update.pk).exists()
    assert not ReportPhoto.objects.exists() and not UpdatePhoto.objects.exists()
    assert not Flag.objects.exists() and not Affected.objects.exists()
    assert all(not photos[0].image.storage.exists(name) for name in files)
    assert all(client.get(settings.MEDIA_URL + name).status_code == 404 for name in files)


def test_a_removed_reports_text_is_in_no_public_page_api_feed_or_replay(client) -> None:
    project = ProjectFactory()
    report = submitted(project=project)
    update_add(report=report, text=UPDATE_TEXT, name="Sipho Private")
    before = public_text(client, report.pk, project.pk)
    assert ILLEGAL_TITLE in before and UPDATE_TEXT in before
    report_delete(report=report, moderator="thandeka", reason="Identity document")
    after = public_text(client, report.pk, project.pk)
    for secret in (ILLEGAL_TITLE, ILLEGAL_TEXT, UPDATE_TEXT, "Sipho Private", "Mpho Secret"):
        assert secret not in after, secret
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.get(f"/api/v1/reports/{report.pk}").status_code == 404
    # The change-log rows stay (by id), blank where the text was, and one more says it was removed.
    rows = list(DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk).order_by("pk"))
    assert [row.change_type for row in rows] == [ChangeType.CREATED, ChangeType.UPDATED, ChangeType.DELETED]
    assert rows[0].new_values["title"] == "" and rows[0].new_values["state"] == ReportState.OPEN
    assert rows[-1].new_values == {"action": "delete"} and rows[-1].project_id == str(project.pk)


def test_the_tombstone_says_who_when_why_and_which_item_but_keeps_no_text() -> None:
    report = submitted()
    contributor_id, created_at = report.contributor_id, report.created_at
    report_delete(report=report, moderator="thandeka", reason="  Identity document  ")
    tombstone = AdminAction.objects.get()
    assert (tombstone.admin_name, tombstone.action, tombstone.target_type, tombstone.target_id, tombstone.reason) \
        == ("thandeka", "delete", "report", str(report.pk), "Identity document")
    assert tombstone.metadata == {"contributor_id": contributor_id, "created_at": created_at.isoformat()}
    assert tombstone.created_at is not None


def test_an_anonymous_reports_tombstone_has_no_contributor() -> None:
    report = submitted(name="", email="")
    report_delete(report=report, moderator="thandeka", reason="Illegal")
    assert AdminAction.objects.get().metadata["contributor_id"] is None


def test_removal_needs_a_reason() -> None:
    report = submitted()
    with pytest.raises(ReportError) as caught:
        report_delete(report=report, moderator="thandeka", reason=" ")
    assert caught.value.field == "reason"
    assert Report.objects.filter(pk=report.pk).exists() and not AdminAction.objects.exists()


def test_a_removed_update_goes_with_its_text_and_files_and_its_fix_is_undone(
        client, django_capture_on_commit_callbacks) -> None:
    project = ProjectFactory()
    report = submitted(project=project, title="Leak at the clinic", description="A leak.")
    update = update_add(report=report, text=UPDATE_TEXT, fixed=True, name="Sipho Private",
                        photos=[PhotoUpload(photo_bytes((200, 200)), "u.jpg")])
    report.refresh_from_db()
    assert report.state == ReportState.FIXED
    files = photo_names(list(update.photos.all()))
    with django_capture_on_commit_callbacks(execute=True):
        update_delete(update=update, moderator="thandeka", reason="A phone number of someone else")
    report.refresh_from_db()
    assert report.state == ReportState.OPEN
    assert not ReportUpdate.objects.exists() and not UpdatePhoto.objects.exists()
    assert all(client.get(settings.MEDIA_URL + name).status_code == 404 for name in files)
    after = public_text(client, report.pk, project.pk)
    assert UPDATE_TEXT not in after and "Sipho Private" not in after
    assert "Leak at the clinic" in after  # the report itself stays
    tombstone = AdminAction.objects.get(action="delete")
    assert (tombstone.target_type, tombstone.target_id) == ("report_update", str(update.pk))
    assert tombstone.metadata == {"contributor_id": update.contributor_id, "created_at": update.created_at.isoformat(),
                                  "report_id": str(report.pk)}
    last = DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk).order_by("-pk").first()
    assert last is not None and last.new_values["action"] == "delete"
    assert (last.old_values["state"], last.new_values["state"]) == (ReportState.FIXED, ReportState.OPEN)


def test_duplicates_of_a_removed_report_are_open_again_each_with_an_admin_action() -> None:
    original = submitted()
    duplicate = submitted(title="Same leak", description="Same.")
    report_mark_duplicate(reports=[duplicate], original=original, moderator="thandeka", reason="Same place")
    report_delete(report=original, moderator="thandeka", reason="Illegal")
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.duplicate_of_id) == (ReportState.OPEN, None)
    assert AdminAction.objects.filter(target_id=str(duplicate.pk), action="set_state").count() == 1


def test_removing_a_duplicate_recounts_its_original() -> None:
    original = submitted()
    duplicate = submitted(title="Same leak", description="Same.")
    report_mark_duplicate(reports=[duplicate], original=original, moderator="thandeka", reason="Same place")
    original.refresh_from_db()
    assert original.affected_count == 1
    report_delete(report=duplicate, moderator="thandeka", reason="Illegal")
    original.refresh_from_db()
    assert original.affected_count == 0


def test_alert_items_about_a_removed_report_go_with_it_and_unmatched_rows_make_none() -> None:
    project = ProjectFactory()
    subscriber = Subscriber.objects.create(email="follower@example.org")
    from django.utils import timezone

    alert = Alert.objects.create(subscriber=subscriber, kind=AlertKind.PROJECT, project=project,
                                 confirmed_at=timezone.now())
    report = submitted(project=project)
    from alerts.matching import alert_items_match

    alert_items_match()
    assert AlertItem.objects.filter(alert=alert, report=report).exists()
    update_add(report=report, text=UPDATE_TEXT)  # not matched yet when the report is removed
    report_delete(report=report, moderator="thandeka", reason="Illegal")
    alert_items_match()
    assert not AlertItem.objects.exists()
