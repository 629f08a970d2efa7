"""The ban list in the admin: listed and unlisted only through the services, with a reason each time; "Ban this
sender" on reports and updates; staff only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from changelog.models import AdminAction
from reports.bans import ban_add
from reports.keys import sender_key
from reports.lifecycle import update_add
from reports.models import Ban, BanKind
from reports.services import report_submit

pytestmark = pytest.mark.django_db
IP = "198.51.100.23"
ADD = "admin:reports_ban_add"
CHANGELIST = "admin:reports_ban_changelist"


def a_ban(kind: str = BanKind.DOMAIN, value: str = "example.org") -> Ban:
    return ban_add(kind=kind, value=value, moderator="root", reason="Sends advertising")


def a_report(**kwargs):  # type: ignore[no-untyped-def]
    return report_submit(title="Free money", description="Click", report_type="issue", lng=18.43, lat=-33.93,
                         **kwargs)


def test_a_moderator_lists_a_sender_through_the_form_with_a_reason(moderator_client) -> None:
    page = moderator_client.get(reverse(ADD))
    assert page.status_code == 200 and b'name="reason"' in page.content and b'name="created_by"' not in page.content
    response = moderator_client.post(reverse(ADD), {"kind": "email", "value": " Spammer@Example.org ",
                                                    "reason": "Posts adverts"})
    assert response.status_code == 302
    ban = Ban.objects.get()
    assert (ban.kind, ban.value, ban.reason, ban.created_by) == ("email", "spammer@example.org", "Posts adverts",
                                                                 "thandeka")
    action = AdminAction.objects.get(target_type="ban")
    assert (action.admin_name, action.action, action.target_id, action.reason) == (
        "thandeka", "ban", str(ban.pk), "Posts adverts")


def test_a_typed_ip_address_is_stored_as_its_key_only(moderator_client) -> None:
    moderator_client.post(reverse(ADD), {"kind": "address", "value": IP, "reason": "Floods the map"})
    assert Ban.objects.get().value == sender_key(IP)
    assert IP not in str(list(Ban.objects.values())) + str(list(AdminAction.objects.values()))


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"kind": "email", "value": "a@example.org", "reason": "   "}, "reason", b"This field is required"),
    ({"kind": "domain", "value": "someone@example.org", "reason": "r"}, "value", b"list it as an email address"),
    ({"kind": "address", "value": "somewhere", "reason": "r"}, "value", b"hashed at once"),
])
def test_the_form_refuses_a_missing_reason_and_bad_values(moderator_client, data, field, words) -> None:
    response = moderator_client.post(reverse(ADD), data)
    assert response.status_code == 200 and field in response.context["adminform"].form.errors
    assert words in response.content
    assert not Ban.objects.exists() and not AdminAction.objects.exists()


def test_a_sender_listed_already_is_refused_by_the_form(moderator_client) -> None:
    a_ban(BanKind.EMAIL, "a@example.org")
    response = moderator_client.post(reverse(ADD), {"kind": "email", "value": "A@example.org", "reason": "again"})
    assert response.status_code == 200 and Ban.objects.count() == 1


def test_a_ban_is_never_edited_or_deleted_directly(moderator_client, superuser_client) -> None:
    ban = a_ban()
    change = reverse("admin:reports_ban_change", args=[ban.pk])
    for client in (moderator_client, superuser_client):
        page = client.get(change)
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert b"Remove from the ban list" in page.content and b"Sends advertising" in page.content
        assert client.post(change, {"kind": "email", "value": "x@example.org", "reason": "r"}).status_code == 403
        assert client.get(reverse("admin:reports_ban_delete", args=[ban.pk])).status_code == 403
        assert b"delete_selected" not in client.get(reverse(CHANGELIST)).content
    ban.refresh_from_db()
    assert ban.value == "example.org"


def test_removal_is_a_change_list_action_asking_for_a_reason(moderator_client) -> None:
    bans = [a_ban(), a_ban(BanKind.EMAIL, "b@example.net")]
    keep = a_ban(BanKind.ADDRESS, IP)
    selected = [str(ban.pk) for ban in bans]
    url = reverse(CHANGELIST)
    page = moderator_client.post(url, {"action": "remove_bans", "_selected_action": selected, "index": "0"})
    assert page.status_code == 200 and b'name="reason"' in page.content
    refused = moderator_client.post(url, {"action": "remove_bans", "_selected_action": selected, "apply": "1",
                                          "select_across": "0", "reason": " "})
    assert refused.status_code == 200 and Ban.objects.count() == 3
    done = moderator_client.post(url, {"action": "remove_bans", "_selected_action": selected, "apply": "1",
                                       "select_across": "0", "reason": "Listed by mistake"})
    assert done.status_code == 302
    assert list(Ban.objects.all()) == [keep]
    unbans = AdminAction.objects.filter(action="unban")
    assert sorted(a.target_id for a in unbans) == sorted(selected)
    assert {(a.admin_name, a.reason) for a in unbans} == {("thandeka", "Listed by mistake")}


def test_removal_from_a_bans_page_goes_back_to_the_list(moderator_client) -> None:
    ban = a_ban()
    url = reverse("admin:reports_ban_moderate", args=[ban.pk, "unban"])
    assert b'name="reason"' in moderator_client.get(url).content
    response = moderator_client.post(url, {"apply": "1", "reason": "Their school is not a spammer"})
    assert response.status_code == 302 and response["Location"] == reverse(CHANGELIST)
    assert not Ban.objects.exists() and AdminAction.objects.filter(action="unban").count() == 1


@pytest.mark.parametrize(("kind", "value"), [("email", "spammer@example.org"), ("domain", "example.org"),
                                             ("address", sender_key(IP))])
def test_ban_this_sender_from_a_reports_page(moderator_client, kind, value) -> None:
    report = a_report(email="Spammer@Example.org", client_address=IP)
    url = reverse("admin:reports_report_moderate", args=[report.pk, "ban_sender"])
    page = moderator_client.get(url)
    assert page.status_code == 200 and b'name="kind"' in page.content
    assert b"Ban this sender" in moderator_client.get(reverse("admin:reports_report_change", args=[report.pk])).content
    assert moderator_client.post(url, {"apply": "1", "kind": kind, "reason": ""}).status_code == 200
    assert not Ban.objects.exists()
    assert moderator_client.post(url, {"apply": "1", "kind": kind, "reason": "Adverts"}).status_code == 302
    ban = Ban.objects.get()
    assert (ban.kind, ban.value, ban.created_by) == (kind, value, "thandeka")
    assert AdminAction.objects.get(action="ban").metadata["report_id"] == str(report.pk)


def test_ban_the_senders_of_updates_from_the_change_list(moderator_client) -> None:
    report = a_report()
    update = update_add(report=report, text="Visit my shop", address=IP)
    url = reverse("admin:reports_reportupdate_changelist")
    response = moderator_client.post(url, {"action": "ban_update_senders", "_selected_action": [str(update.pk)],
                                           "select_across": "0", "apply": "1", "kind": "address",
                                           "reason": "Adverts"})
    assert response.status_code == 302
    assert Ban.objects.get().value == sender_key(IP) == update.sender_key


def test_a_sender_without_an_email_cannot_be_listed_by_email_and_the_page_says_so(moderator_client) -> None:
    report = a_report(client_address=IP)
    url = reverse("admin:reports_report_moderate", args=[report.pk, "ban_sender"])
    response = moderator_client.post(url, {"apply": "1", "kind": "email", "reason": "Adverts"})
    assert response.status_code == 200 and b"without an email address" in response.content
    assert not Ban.objects.exists()


def test_the_ban_list_is_for_staff_only(client, django_user_model) -> None:
    ban = a_ban()
    urls = [reverse(CHANGELIST), reverse(ADD), reverse("admin:reports_ban_change", args=[ban.pk]),
            reverse("admin:reports_ban_moderate", args=[ban.pk, "unban"])]
    for url in urls:  # not signed in: sent to the sign-in page
        assert client.get(url)["Location"].startswith(reverse("admin:login"))
    client.force_login(django_user_model.objects.create_user("resident", password="not-used"))
    for url in urls:  # signed in, but not staff
        assert client.get(url)["Location"].startswith(reverse("admin:login"))
    assert client.post(reverse(ADD), {"kind": "email", "value": "x@example.org", "reason": "r"}).status_code == 302
    assert Ban.objects.count() == 1


def test_staff_without_the_ban_permissions_are_refused(viewer_client) -> None:
    ban = a_ban()
    assert viewer_client.get(reverse(CHANGELIST)).status_code == 403
    assert viewer_client.get(reverse(ADD)).status_code == 403
    assert viewer_client.post(reverse("admin:reports_ban_moderate", args=[ban.pk, "unban"]),
                              {"apply": "1", "reason": "r"}).status_code == 403
    assert Ban.objects.exists()
