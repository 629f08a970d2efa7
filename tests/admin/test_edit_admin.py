"""The admin's edit page for reports and updates: prefilled fields, a reason, originals put back one by one,
staff with the change permission only, CSRF, and the stale-form guard between two moderators' sessions."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from changelog.models import AdminAction
from reports.lifecycle import update_add
from reports.models import Report, ReportType
from reports.reporter import report_hide_name
from reports.services import report_submit
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

PHONE = "082 555 0199"


@pytest.fixture
def report() -> Report:
    return report_submit(title=f"Leak, call {PHONE}", description="Water in the street.",
                         report_type=ReportType.ISSUE, lng=18.43, lat=-33.93, name="Thandi",
                         project=ProjectFactory())


def edit_url(report: Report) -> str:
    return reverse("admin:reports_report_edit", args=[report.pk])


def started_of(page: bytes) -> str:
    found = re.search(rb'name="started" value="(\d+)"', page)
    assert found, "the form carries no started value"
    return found.group(1).decode()


def form_values(report: Report, **changes: str) -> dict[str, str]:
    return {"title": report.title, "description": report.description, "latitude": str(report.location.y),
            "longitude": str(report.location.x), "report_type": report.report_type,
            "contributor_name": report.contributor_name, "reason": "Phone number removed", **changes}


def shown_values(page: bytes) -> dict[str, str]:
    """The values the edit form showed, as it carries them (hidden `initial-<field>` inputs)."""
    return {html.unescape(name): html.unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="(initial-[a-z_]+)" value="([^"]*)"', page.decode())}


def moderator_session(django_user_model, name: str) -> Client:  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user(name, password="not-used", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderator"))
    client = Client()
    client.force_login(user)
    return client


def test_the_report_page_links_to_a_prefilled_edit_page(moderator_client, report) -> None:
    change = moderator_client.get(reverse("admin:reports_report_change", args=[report.pk]))
    assert edit_url(report).encode() in change.content
    page = moderator_client.get(edit_url(report))
    assert page.status_code == 200
    text = page.content.decode()
    assert f'value="{report.title}"' in text and "Water in the street." in text
    assert 'name="reason"' in text and started_of(page.content) == "0"
    assert "No field has been edited" in text


def test_a_moderator_edits_a_report_with_a_reason_and_puts_an_original_back(moderator_client, report) -> None:
    page = moderator_client.get(edit_url(report))
    values = form_values(report, title="Leak in the street", started=started_of(page.content))
    refused = moderator_client.post(edit_url(report), {**values, "reason": " "})
    assert refused.status_code == 400 and b"Give a reason" in refused.content
    response = moderator_client.post(edit_url(report), {**values, "_edit": "1"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == "Leak in the street" and report.original_values == {"title": f"Leak, call {PHONE}"}
    assert AdminAction.objects.get(action="edit").admin_name == "thandeka"

    page = moderator_client.get(edit_url(report))
    assert PHONE in page.content.decode() and b'name="_revert"' in page.content
    nothing = moderator_client.post(edit_url(report), {**form_values(report), "started": started_of(page.content)})
    assert nothing.status_code == 400 and b"Nothing was changed" in nothing.content
    back = moderator_client.post(edit_url(report), {"_revert": "1", "field": "title", "reason": "It was fine",
                                                     "started": started_of(page.content)})
    assert back.status_code == 302
    report.refresh_from_db()
    assert report.title == f"Leak, call {PHONE}" and report.original_values == {}


def test_the_place_is_typed_as_latitude_and_longitude_and_must_be_in_south_africa(moderator_client, report) -> None:
    page = moderator_client.get(edit_url(report))
    values = form_values(report, latitude="48.85", longitude="2.35", started=started_of(page.content))
    response = moderator_client.post(edit_url(report), values)
    assert response.status_code == 400 and b"must be in South Africa" in response.content
    response = moderator_client.post(edit_url(report), {**values, "latitude": "-33.95", "longitude": "18.47"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.location.y, report.location.x) == (-33.95, 18.47)


def test_an_update_is_edited_from_its_own_page(moderator_client, report) -> None:
    update = update_add(report=report, text=f"Still leaking, {PHONE}", name="Sipho")
    url = reverse("admin:reports_reportupdate_edit", args=[update.pk])
    change = moderator_client.get(reverse("admin:reports_reportupdate_change", args=[update.pk]))
    assert url.encode() in change.content
    page = moderator_client.get(url)
    assert page.status_code == 200 and PHONE in page.content.decode()
    response = moderator_client.post(url, {"text": "Still leaking", "contributor_name": "Sipho", "reason": "Phone",
                                           "started": started_of(page.content)})
    assert response.status_code == 302
    update.refresh_from_db()
    assert update.text == "Still leaking" and update.original_values == {"text": f"Still leaking, {PHONE}"}


def test_staff_without_the_change_permission_can_neither_open_nor_post(viewer_client, report) -> None:
    assert viewer_client.get(edit_url(report)).status_code == 403
    response = viewer_client.post(edit_url(report), form_values(report, title="Changed", started="0"))
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.title == f"Leak, call {PHONE}"
    assert edit_url(report).encode() not in viewer_client.get(
        reverse("admin:reports_report_change", args=[report.pk])).content


def test_the_edit_form_is_protected_against_cross_site_posts(django_user_model, moderator, report) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    page = client.get(edit_url(report))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token
    values = form_values(report, title="Leak in the street", started=started_of(page.content))
    assert client.post(edit_url(report), values).status_code == 403
    report.refresh_from_db()
    assert report.original_values == {}
    response = client.post(edit_url(report), {**values, "csrfmiddlewaretoken": token.group(1).decode()})
    assert response.status_code == 302


def test_the_stale_form_guard_with_two_admin_sessions(django_user_model, report) -> None:
    first, second = moderator_session(django_user_model, "lindiwe"), moderator_session(django_user_model, "sipho")
    first_page, second_page = first.get(edit_url(report)), second.get(edit_url(report))
    saved = first.post(edit_url(report), form_values(report, title="Leak on Main Road",
                                                     started=started_of(first_page.content)))
    assert saved.status_code == 302
    refused = second.post(edit_url(report), form_values(report, title="Leak near the school",
                                                        reason="Tidy the title",
                                                        started=started_of(second_page.content)))
    assert refused.status_code == 409
    text = refused.content.decode()
    assert "Someone moderated this since you opened it." in text
    assert 'value="Leak on Main Road"' in text  # the first moderator's values, as they are now
    assert "Tidy the title" in text  # the reason typed is kept
    report.refresh_from_db()
    assert report.title == "Leak on Main Road"
    assert list(AdminAction.objects.values_list("admin_name", flat=True)) == ["lindiwe"]
    # The refused page carries the new mark: saving from it goes through.
    again = second.post(edit_url(report), form_values(report, title="Leak near the school",
                                                      started=started_of(refused.content)))
    assert again.status_code == 302


def test_a_revert_from_a_stale_page_is_refused_too(django_user_model, report) -> None:
    first, second = moderator_session(django_user_model, "lindiwe"), moderator_session(django_user_model, "sipho")
    page = first.get(edit_url(report))
    first.post(edit_url(report), form_values(report, title="Leak", started=started_of(page.content)))
    opened = second.get(edit_url(report))
    report.refresh_from_db()
    first.post(edit_url(report), form_values(report, title="Leak on Main Road", started=started_of(opened.content)))
    refused = second.post(edit_url(report), {"_revert": "1", "field": "title", "reason": "Fine as sent",
                                              "started": started_of(opened.content)})
    assert refused.status_code == 409 and b"Someone moderated this since you opened it." in refused.content
    report.refresh_from_db()
    assert report.title == "Leak on Main Road"


def test_a_field_changed_meanwhile_without_a_moderation_is_not_put_back(moderator_client, report) -> None:
    page = moderator_client.get(edit_url(report))
    shown = shown_values(page.content)
    assert shown["initial-contributor_name"] == "Thandi" and shown["initial-title"] == report.title
    report_hide_name(report=report)  # the reporter, from their private link: no moderation, so no stale page
    response = moderator_client.post(edit_url(report), {**form_values(report, title="Leak in the street",
                                                                      contributor_name="Thandi"),
                                                        **shown, "started": started_of(page.content)})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.title, report.contributor_name) == ("Leak in the street", "")
    assert AdminAction.objects.get(action="edit").metadata == {"fields": ["title"]}


def test_a_refused_form_keeps_what_the_moderator_changed(moderator_client, report) -> None:
    page = moderator_client.get(edit_url(report))
    values = {**form_values(report, title="Leak in the street"), **shown_values(page.content),
              "started": started_of(page.content)}
    refused = moderator_client.post(edit_url(report), {**values, "reason": ""})
    assert refused.status_code == 400
    # The form shown again still knows what it first showed, so the changed title still counts as changed.
    assert shown_values(refused.content)["initial-title"] == f"Leak, call {PHONE}"
    response = moderator_client.post(edit_url(report), {**values, **shown_values(refused.content)})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == "Leak in the street"
