"""The admin's photo pages (redact, hide, show) and "Remove for illegal content": who may use them, the typed-box
path without JavaScript, CSRF, and what they change."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from changelog.models import AdminAction
from reports.lifecycle import update_add
from reports.models import Report, ReportPhoto, ReportType, ReportUpdate
from reports.services import PhotoUpload, report_submit
from tests.admin.conftest import run_action
from tests.reports.test_photos import photo_bytes

pytestmark = pytest.mark.django_db


def report_with_photo() -> tuple[Report, ReportPhoto]:
    report = report_submit(title="Leak by the taxi rank", description="A leak.", report_type=ReportType.ISSUE,
                           lng=18.43, lat=-33.93, photos=[PhotoUpload(photo_bytes((400, 300)), "a.jpg")])
    return report, report.photos.get()


def photo_url(report: Report, photo: ReportPhoto, action: str) -> str:
    return reverse("admin:reports_report_photo", args=[report.pk, photo.pk, action])


def test_the_report_page_links_each_photo_to_redact_and_hide_for_moderators(moderator_client) -> None:
    report, photo = report_with_photo()
    page = moderator_client.get(reverse("admin:reports_report_change", args=[report.pk])).content.decode()
    assert photo_url(report, photo, "redact") in page and photo_url(report, photo, "hide") in page
    assert photo_url(report, photo, "show") not in page
    assert "Remove for illegal content" in page


def test_staff_who_may_only_view_see_no_links_and_are_refused_the_pages(viewer_client) -> None:
    report, photo = report_with_photo()
    page = viewer_client.get(reverse("admin:reports_report_change", args=[report.pk])).content.decode()
    assert photo_url(report, photo, "redact") not in page
    for action in ("redact", "hide", "show"):
        assert viewer_client.get(photo_url(report, photo, action)).status_code == 403
        response = viewer_client.post(photo_url(report, photo, action), {"boxes": "0,0,10,10", "reason": "x"})
        assert response.status_code == 403
    photo.refresh_from_db()
    assert photo.redacted_at is None and photo.hidden_at is None and not AdminAction.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:
    report, photo = report_with_photo()
    response = client.get(photo_url(report, photo, "redact"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_redaction_page_has_the_photo_a_labelled_text_area_and_the_local_script(moderator_client) -> None:
    report, photo = report_with_photo()
    page = moderator_client.get(photo_url(report, photo, "redact")).content.decode()
    assert photo.image.url in page and 'data-width="400"' in page and 'data-height="300"' in page
    assert '<label for="id_boxes"' in page and '<label for="id_reason"' in page
    assert 'aria-describedby="id_boxes_helptext"' in page
    assert "/static/admin/js/redact.js" in page and "csrfmiddlewaretoken" in page
    assert "https://" not in page.split("<body", 1)[1]  # nothing loaded from elsewhere


def test_typed_boxes_redact_the_photo(moderator_client) -> None:
    report, photo = report_with_photo()
    old = photo.image.name
    response = moderator_client.post(photo_url(report, photo, "redact"),
                                     {"boxes": "10,10,50,40\n\n 100 , 120 , 30 , 30 ", "reason": "Faces"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_report_change", args=[report.pk])
    photo.refresh_from_db()
    assert photo.redacted_at is not None and photo.image.name != old
    action = AdminAction.objects.get()
    assert (action.action, action.admin_name, action.reason) == ("redact_photo", "thandeka", "Faces")
    assert action.metadata["boxes"] == [[10, 10, 50, 40], [100, 120, 30, 30]]


@pytest.mark.parametrize(("boxes", "message"), [
    ("10,10,fifty,40", "Line 1 is not four whole numbers"),
    ("10,10,50", "Line 1 is not four whole numbers"),
    ("", "Give at least one box."),
    ("350,10,100,40", "Box 1 goes outside the photo"),
    ("10,10,0,40", "Box 1 must have a width and a height above 0."),
])
def test_bad_typed_boxes_are_shown_on_the_boxes_field(moderator_client, boxes: str, message: str) -> None:
    report, photo = report_with_photo()
    response = moderator_client.post(photo_url(report, photo, "redact"), {"boxes": boxes, "reason": "Faces"})
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors["boxes"])
    assert 'id="id_boxes_error"' in response.content.decode()
    photo.refresh_from_db()
    assert photo.redacted_at is None and not AdminAction.objects.exists()


def test_a_redaction_without_a_reason_is_refused(moderator_client) -> None:
    report, photo = report_with_photo()
    response = moderator_client.post(photo_url(report, photo, "redact"), {"boxes": "0,0,10,10", "reason": " "})
    assert response.status_code == 400 and "reason" in response.context["form"].errors


def test_every_photo_form_needs_the_csrf_token(moderator) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    report, photo = report_with_photo()
    for action, data in (("redact", {"boxes": "0,0,10,10", "reason": "x"}), ("hide", {"reason": "x"})):
        assert client.post(photo_url(report, photo, action), data).status_code == 403
    photo.refresh_from_db()
    assert photo.redacted_at is None and photo.hidden_at is None


def test_hide_then_show_from_the_admin(moderator_client) -> None:
    report, photo = report_with_photo()
    assert moderator_client.post(photo_url(report, photo, "hide"), {"reason": "A child"}).status_code == 302
    photo.refresh_from_db()
    assert photo.hidden_at is not None
    page = moderator_client.get(reverse("admin:reports_report_change", args=[report.pk])).content.decode()
    assert "Hidden from the public" in page and photo_url(report, photo, "show") in page
    assert moderator_client.post(photo_url(report, photo, "show"), {"reason": "Blurred"}).status_code == 302
    photo.refresh_from_db()
    assert photo.hidden_at is None
    assert list(AdminAction.objects.order_by("pk").values_list("action", flat=True)) == ["hide_photo", "show_photo"]


def test_a_photo_of_another_report_is_not_found(moderator_client) -> None:
    report, _photo = report_with_photo()
    _other, photo = report_with_photo()
    assert moderator_client.get(photo_url(report, photo, "redact")).status_code == 404


def test_an_update_photo_has_its_pages_on_the_update(moderator_client) -> None:
    report, _photo = report_with_photo()
    update = update_add(report=report, text="Worse", photos=[PhotoUpload(photo_bytes((200, 100)), "u.jpg")])
    photo = update.photos.get()
    url = reverse("admin:reports_reportupdate_photo", args=[update.pk, photo.pk, "redact"])
    page = moderator_client.get(reverse("admin:reports_reportupdate_change", args=[update.pk])).content.decode()
    assert url in page
    assert moderator_client.post(url, {"boxes": "0,0,20,20", "reason": "A plate"}).status_code == 302
    action = AdminAction.objects.get()
    assert (action.target_type, action.target_id) == ("report_update", str(update.pk))


def test_removal_from_the_report_page_asks_for_a_reason_and_a_confirmation(moderator_client) -> None:
    report, _photo = report_with_photo()
    url = reverse("admin:reports_report_moderate", args=[report.pk, "remove"])
    page = moderator_client.get(url)
    assert page.status_code == 200 and b'name="understood"' in page.content and b'name="reason"' in page.content
    refused = moderator_client.post(url, {"apply": "1", "reason": "Identity document"})
    assert refused.status_code == 200 and "understood" in refused.context["form"].errors
    assert Report.objects.filter(pk=report.pk).exists()
    done = moderator_client.post(url, {"apply": "1", "reason": "Identity document", "understood": "on"})
    assert done.status_code == 302 and done["Location"] == reverse("admin:reports_report_changelist")
    assert not Report.objects.filter(pk=report.pk).exists()
    tombstone = AdminAction.objects.get()
    assert (tombstone.action, tombstone.target_id, tombstone.admin_name) == ("delete", str(report.pk), "thandeka")


def test_removal_from_the_change_list(moderator_client) -> None:
    reports = [report_with_photo()[0] for _ in range(2)]
    response = run_action(moderator_client, "remove_illegal_reports", reports,
                          {"reason": "Illegal", "understood": "on"})
    assert response.status_code == 302
    assert not Report.objects.exists()
    assert AdminAction.objects.filter(action="delete").count() == 2


def test_an_update_is_removed_from_its_page(moderator_client) -> None:
    report, _photo = report_with_photo()
    update = update_add(report=report, text="Someone's phone number")
    url = reverse("admin:reports_reportupdate_moderate", args=[update.pk, "remove"])
    done = moderator_client.post(url, {"apply": "1", "reason": "Private number", "understood": "on"})
    assert done.status_code == 302
    assert not ReportUpdate.objects.exists() and Report.objects.filter(pk=report.pk).exists()


def test_staff_who_may_only_view_cannot_remove(viewer_client) -> None:
    report, _photo = report_with_photo()
    url = reverse("admin:reports_report_moderate", args=[report.pk, "remove"])
    assert viewer_client.post(url, {"apply": "1", "reason": "x", "understood": "on"}).status_code == 403
    assert Report.objects.filter(pk=report.pk).exists()
