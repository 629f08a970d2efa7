"""The ban list: what is listed and how, and a listed sender's reports and updates stored hidden, without a trace
in the change log (so never pushed, fed or alerted)."""

import io

import pytest
from django.core.management import call_command

from alerts.models import Delivery
from alerts.reporters import reporter_deliveries_create
from changelog.models import AdminAction, DataChangeLog
from reports.bans import ban_add, ban_add_senders, ban_remove, ban_value, banned_sender
from reports.keys import sender_key
from reports.lifecycle import update_add
from reports.models import Ban, BanKind, ReportState, ReportStatus, ReportType
from reports.services import ReportError, report_publish_draft, report_submit
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db
IP = "198.51.100.23"  # documentation range: found in a dump only if it was stored


def submit(**kwargs):
    values = {"title": "Free money", "description": "Click here", "report_type": "issue", "lng": 18.43,
              "lat": -33.93}
    return report_submit(**{**values, **kwargs})


def only_hash_stored(address: str = IP) -> bool:
    dump = io.StringIO()
    call_command("dumpdata", "reports", "changelog", stdout=dump)
    return address not in dump.getvalue()


# --- What is listed ---------------------------------------------------------------------------------------


def test_emails_and_domains_are_listed_lower_cased_and_stripped() -> None:
    assert ban_value(kind=BanKind.EMAIL, value="  Spammer@Example.ORG ") == "spammer@example.org"
    assert ban_value(kind=BanKind.DOMAIN, value=" Example.ORG ") == "example.org"


def test_a_domain_given_with_its_at_sign_is_taken_as_the_domain() -> None:
    assert ban_value(kind=BanKind.DOMAIN, value="@Example.org") == "example.org"


@pytest.mark.parametrize(("kind", "value"), [
    (BanKind.DOMAIN, "someone@example.org"),  # an address given for a domain: refused, not widened
    (BanKind.DOMAIN, "localhost"), (BanKind.DOMAIN, "not a domain"), (BanKind.EMAIL, "not an email"),
    (BanKind.ADDRESS, "somewhere"), (BanKind.ADDRESS, "999.1.1.1"), ("phone", "0821234567"),
])
def test_bad_values_are_refused_naming_the_field(kind: str, value: str) -> None:
    with pytest.raises(ReportError) as error:
        ban_add(kind=kind, value=value, moderator="thandeka", reason="abuse")
    assert error.value.field == ("kind" if kind == "phone" else "value")
    assert not Ban.objects.exists() and not AdminAction.objects.exists()


def test_a_domain_given_as_an_email_address_says_how_to_list_either() -> None:
    with pytest.raises(ReportError, match="list it as an email address"):
        ban_value(kind=BanKind.DOMAIN, value="someone@example.org")


def test_a_typed_ip_address_is_hashed_at_once_and_never_stored() -> None:
    ban = ban_add(kind=BanKind.ADDRESS, value=f" {IP} ", moderator="thandeka", reason="Floods the map")
    assert ban.value == sender_key(IP) and len(ban.value) == 64
    assert AdminAction.objects.get(target_type="ban").metadata == {"kind": "address", "value": sender_key(IP)}
    assert only_hash_stored()


def test_an_ipv6_address_typed_in_any_form_matches_the_requests_address() -> None:
    ban = ban_add(kind=BanKind.ADDRESS, value="2001:DB8:0:0::1", moderator="m", reason="abuse")
    assert banned_sender(email="", address="2001:db8::1") == ban


def test_an_address_key_from_a_report_is_listed_as_it_is() -> None:
    report = submit(client_address=IP)
    ban = ban_add(kind=BanKind.ADDRESS, value=report.sender_key.upper(), moderator="m", reason="abuse")
    assert ban.value == report.sender_key == sender_key(IP)


def test_listing_needs_a_reason_and_writes_one_admin_action() -> None:
    with pytest.raises(ReportError) as error:
        ban_add(kind=BanKind.EMAIL, value="a@example.org", moderator="thandeka", reason="  ")
    assert error.value.field == "reason" and not Ban.objects.exists()
    ban = ban_add(kind=BanKind.EMAIL, value="a@example.org", moderator="thandeka", reason=" Sends abuse ")
    assert (ban.reason, ban.created_by) == ("Sends abuse", "thandeka")
    action = AdminAction.objects.get()
    assert (action.admin_name, action.target_type, action.target_id, action.action, action.reason) == (
        "thandeka", "ban", str(ban.pk), "ban", "Sends abuse")
    assert action.metadata == {"kind": "email", "value": "a@example.org"}


def test_a_sender_listed_already_is_refused() -> None:
    ban_add(kind=BanKind.EMAIL, value="a@example.org", moderator="m", reason="abuse")
    with pytest.raises(ReportError, match="already"):
        ban_add(kind=BanKind.EMAIL, value="A@example.org", moderator="m", reason="again")
    assert Ban.objects.count() == 1 and AdminAction.objects.count() == 1


def test_unlisting_needs_a_reason_and_writes_one_admin_action() -> None:
    ban = ban_add(kind=BanKind.DOMAIN, value="example.org", moderator="m", reason="abuse")
    with pytest.raises(ReportError):
        ban_remove(ban=ban, moderator="thandeka", reason="")
    assert Ban.objects.exists()
    ban_remove(ban=ban, moderator="thandeka", reason="The school's domain: listed by mistake")
    assert not Ban.objects.exists()
    action = AdminAction.objects.get(action="unban")
    assert (action.admin_name, action.target_id, action.reason) == (
        "thandeka", str(ban.pk), "The school's domain: listed by mistake")
    assert action.metadata == {"kind": "domain", "value": "example.org"}


def test_the_ban_that_matches_is_found_in_one_query(django_assert_num_queries) -> None:
    by_email = ban_add(kind=BanKind.EMAIL, value="spammer@example.org", moderator="m", reason="r")
    by_domain = ban_add(kind=BanKind.DOMAIN, value="spam.example", moderator="m", reason="r")
    by_address = ban_add(kind=BanKind.ADDRESS, value=IP, moderator="m", reason="r")
    with django_assert_num_queries(1):
        assert banned_sender(email=" Spammer@EXAMPLE.org", address="10.0.0.1") == by_email
    assert banned_sender(email="anyone@spam.example", address="") == by_domain
    assert banned_sender(email="anyone@mail.spam.example", address="") == by_domain  # subdomains too
    assert banned_sender(email="anyone@notspam.example", address="") is None
    assert banned_sender(email="", address=IP) == by_address
    assert banned_sender(email="friend@example.org", address="10.0.0.1") is None
    with django_assert_num_queries(0):
        assert banned_sender(email="", address="") is None


# --- A listed sender's reports and updates ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value"), [(BanKind.EMAIL, "Spammer@Example.org"),
                                             (BanKind.DOMAIN, "example.org"), (BanKind.ADDRESS, IP)])
def test_a_listed_senders_report_is_stored_hidden_with_one_system_action_and_no_change(kind, value) -> None:
    ban = ban_add(kind=kind, value=value, moderator="thandeka", reason="Sends abuse")
    report = submit(email="spammer@example.org", client_address=IP)
    report.refresh_from_db()
    assert report.status == ReportStatus.SPAM and report.sender_key == sender_key(IP)
    action = AdminAction.objects.get(target_type="report", target_id=str(report.pk))
    assert (action.admin_name, action.action) == ("system", "banned_sender")
    assert f"ban {ban.pk}" in action.reason and IP not in action.reason
    assert action.metadata == {"ban_id": ban.pk, "kind": kind, "value": ban.value}
    assert not DataChangeLog.objects.filter(entity_type="report").exists()  # nothing pushed live, fed or alerted
    reporter_deliveries_create()
    assert not Delivery.objects.exists()  # no private link mailed to them either
    assert only_hash_stored()


def test_other_senders_are_published_and_keep_only_their_address_key() -> None:
    ban_add(kind=BanKind.EMAIL, value="spammer@example.org", moderator="m", reason="abuse")
    report = submit(email="resident@example.org", client_address=IP)
    assert report.status == ReportStatus.PUBLISHED and report.sender_key == sender_key(IP)
    assert DataChangeLog.objects.filter(entity_id=str(report.pk), change_type="created").count() == 1
    assert not AdminAction.objects.filter(target_type="report").exists()
    assert only_hash_stored()


def test_a_listed_senders_fixed_update_is_hidden_and_leaves_the_report_as_it_was() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    ban = ban_add(kind=BanKind.ADDRESS, value=IP, moderator="m", reason="Marks everything fixed")
    update = update_add(report=report, text="Fixed!", fixed=True, email="x@example.net", address=IP)
    update.refresh_from_db()
    report.refresh_from_db()
    assert update.status == ReportStatus.SPAM and update.effect == "" and update.sender_key == sender_key(IP)
    assert report.state == ReportState.OPEN and report.state_changed_at is None
    action = AdminAction.objects.get(target_type="report_update")
    assert (action.admin_name, action.action, action.target_id) == ("system", "banned_sender", str(update.pk))
    assert action.metadata["report_id"] == str(report.pk) and action.metadata["ban_id"] == ban.pk
    assert not DataChangeLog.objects.filter(entity_type="report").exists()
    assert only_hash_stored()


def test_a_listed_senders_update_is_refused_for_the_same_reasons_as_anyones() -> None:
    ban_add(kind=BanKind.ADDRESS, value=IP, moderator="m", reason="abuse")
    news = ReportFactory(report_type=ReportType.PROGRESS_UPDATE)
    with pytest.raises(ReportError) as error:
        update_add(report=news, text="Fixed", fixed=True, address=IP)
    assert error.value.field == "fixed"


def test_a_listed_senders_draft_waits_like_anyones_and_stays_hidden_when_published() -> None:
    ban_add(kind=BanKind.EMAIL, value="spammer@example.org", moderator="m", reason="abuse")
    draft = submit(email="spammer@example.org", client_address=IP, draft=True)
    assert draft.status == ReportStatus.DRAFT and not AdminAction.objects.filter(target_type="report").exists()
    report_publish_draft(report=draft)
    assert draft.status == ReportStatus.SPAM
    report_publish_draft(report=draft)  # pressed twice: one action
    assert AdminAction.objects.filter(target_type="report", action="banned_sender").count() == 1
    assert not DataChangeLog.objects.filter(entity_type="report").exists()


def test_a_sender_listed_while_their_draft_waits_is_hidden_when_they_publish_it() -> None:
    draft = submit(client_address=IP, draft=True)
    ban_add(kind=BanKind.ADDRESS, value=IP, moderator="m", reason="abuse")
    assert report_publish_draft(report=draft).status == ReportStatus.SPAM
    assert not DataChangeLog.objects.filter(entity_type="report").exists()


def test_after_unlisting_new_reports_are_published_and_the_hidden_ones_stay_hidden() -> None:
    ban = ban_add(kind=BanKind.ADDRESS, value=IP, moderator="m", reason="abuse")
    hidden = submit(client_address=IP)
    ban_remove(ban=ban, moderator="m", reason="A shared school connection: too wide")
    later = submit(client_address=IP)
    hidden.refresh_from_db()
    assert hidden.status == ReportStatus.SPAM and later.status == ReportStatus.PUBLISHED
    assert [a.action for a in AdminAction.objects.order_by("pk")] == ["ban", "banned_sender", "unban"]


# --- "Ban this sender" from a report or an update ------------------------------------------------------------


def test_a_reports_sender_is_listed_by_email_domain_or_address_key() -> None:
    report = submit(email="Spammer@Example.org", client_address=IP)
    update = update_add(report=report, text="More", email="other@example.net", address="203.0.113.9")
    assert ban_add_senders(items=[report], kind=BanKind.EMAIL, moderator="m", reason="abuse") == 1
    assert ban_add_senders(items=[report, update], kind=BanKind.DOMAIN, moderator="m", reason="abuse") == 2
    assert ban_add_senders(items=[update], kind=BanKind.ADDRESS, moderator="m", reason="abuse") == 1
    assert set(Ban.objects.values_list("kind", "value")) == {
        ("email", "spammer@example.org"), ("domain", "example.org"), ("domain", "example.net"),
        ("address", sender_key("203.0.113.9"))}
    action = AdminAction.objects.get(action="ban", metadata__kind="address")
    assert action.metadata["update_id"] == str(update.pk)
    # Listed already: left as it is, not an error.
    assert ban_add_senders(items=[report], kind=BanKind.EMAIL, moderator="m", reason="abuse") == 1
    assert Ban.objects.count() == 4


def test_a_sender_without_what_is_to_be_listed_refuses_the_whole_action() -> None:
    anonymous = submit(client_address=IP)
    named = submit(email="a@example.org", client_address=IP)
    with pytest.raises(ReportError) as error:
        ban_add_senders(items=[named, anonymous], kind=BanKind.EMAIL, moderator="m", reason="abuse")
    assert error.value.field == "kind" and not Ban.objects.exists()
    old = ReportFactory()  # sent before address keys were kept
    with pytest.raises(ReportError, match="no address key"):
        ban_add_senders(items=[old], kind=BanKind.ADDRESS, moderator="m", reason="abuse")
