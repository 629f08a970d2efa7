"""When alert emails go out: bundling and the 5-minute limit, the 07:00 digest, what moderation holds back, and
refusals by the receiving server (recorded, retried with backoff, the address paused after 5)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from alerts.delivery import send_alerts_pass
from alerts.models import Alert, AlertKind, Bounce, Delivery, Frequency, Subscriber
from alerts.services import AlertTarget, alert_confirm, alert_subscribe, area_target
from reports.models import Report
from reports.services import report_mark_spam, report_publish, report_submit
from tests.alerts.smtp import Mailbox, text_of
from tests.alerts.test_flow import _change_progress
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db
SAST = ZoneInfo("Africa/Johannesburg")


def confirmed_alert(email: str, target: AlertTarget, frequency: str = Frequency.IMMEDIATE,
                    language: str = "en") -> Alert:
    alert = alert_subscribe(email=email, target=target, frequency=frequency, language=language)
    return alert_confirm(alert=alert)


def at(hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    base = timezone.localtime(timezone.now(), SAST).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return base + dt.timedelta(days=day)


def known_sender(email: str = "known@example.org") -> None:
    """An address with an earlier published report: its new reports are not held."""
    report = report_submit(title="Earlier", description="x", report_type="issue", lng=25.0, lat=-30.0, email=email)
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - dt.timedelta(days=30))


def alert_emails(mailbox: Mailbox, address: str) -> list[str]:
    return [text_of(m) for m in mailbox.to(address) if "confirm" not in m["Subject"].lower()]


def test_immediate_alerts_bundle_changes_and_send_at_most_one_email_per_five_minutes(mailbox: Mailbox) -> None:
    project = ProjectFactory(name="Mamelodi reservoir")
    confirmed_alert("fast@example.org", AlertTarget(kind=AlertKind.PROJECT, project=project))
    send_alerts_pass()
    mailbox.clear()
    _change_progress(project, "30")
    _change_progress(project, "35")
    send_alerts_pass()
    (first,) = alert_emails(mailbox, "fast@example.org")
    assert "30%" in first and "35%" in first  # two changes, one email
    _change_progress(project, "40")
    send_alerts_pass(now=timezone.now() + dt.timedelta(minutes=2))
    assert len(alert_emails(mailbox, "fast@example.org")) == 1  # within 5 minutes: waits
    send_alerts_pass(now=timezone.now() + dt.timedelta(minutes=6))
    emails = alert_emails(mailbox, "fast@example.org")
    assert len(emails) == 2 and "40%" in emails[1] and "30%" not in emails[1]


def test_daily_digest_is_sent_once_after_seven_in_the_morning(mailbox: Mailbox) -> None:
    project = ProjectFactory(name="Soweto sewer upgrade")
    confirmed_alert("daily@example.org", AlertTarget(kind=AlertKind.PROJECT, project=project),
                    frequency=Frequency.DAILY)
    send_alerts_pass()
    mailbox.clear()
    _change_progress(project, "60")
    change_time = timezone.now()
    # The next 07:00 after the change, and the digest's pass a minute later.
    next_seven = at(7) if at(7) > change_time else at(7, day=1)
    send_alerts_pass(now=next_seven - dt.timedelta(minutes=5))
    assert alert_emails(mailbox, "daily@example.org") == []
    send_alerts_pass(now=next_seven + dt.timedelta(minutes=1))
    (digest,) = alert_emails(mailbox, "daily@example.org")
    assert "daily summary" in digest and "60%" in digest
    send_alerts_pass(now=next_seven + dt.timedelta(hours=3))
    assert len(alert_emails(mailbox, "daily@example.org")) == 1


def test_flagged_and_spam_reports_are_never_alerted(mailbox: Mailbox) -> None:
    known_sender()
    confirmed_alert("area@example.org", area_target(lat=-26.2, lng=28.04, radius_km=3))
    send_alerts_pass()
    mailbox.clear()
    spam = report_submit(title="Buy cheap pills", description="spam", report_type="issue", lng=28.041, lat=-26.201,
                         email="known@example.org")
    report_mark_spam(reports=[spam], moderator="mod", reason="advertising")
    send_alerts_pass(now=timezone.now() + dt.timedelta(hours=2))
    assert alert_emails(mailbox, "area@example.org") == []


def test_a_first_time_senders_report_waits_an_hour_unless_a_moderator_publishes_it(mailbox: Mailbox) -> None:
    confirmed_alert("area2@example.org", area_target(lat=-29.85, lng=31.02, radius_km=2))
    send_alerts_pass()
    mailbox.clear()
    waiting = report_submit(title="Sewage in the street", description="x", report_type="issue", lng=31.021,
                            lat=-29.851, email="new@example.org")
    anonymous = report_submit(title="Dry taps since Monday", description="x", report_type="issue", lng=31.022,
                              lat=-29.852)
    send_alerts_pass()
    assert alert_emails(mailbox, "area2@example.org") == []
    report_publish(reports=[anonymous], moderator="mod", reason="checked with the ward councillor")
    send_alerts_pass()
    (first,) = alert_emails(mailbox, "area2@example.org")
    assert "Dry taps since Monday" in first and "Sewage in the street" not in first
    send_alerts_pass(now=waiting.created_at + dt.timedelta(minutes=61))
    emails = alert_emails(mailbox, "area2@example.org")
    assert len(emails) == 2 and "Sewage in the street" in emails[1]


def test_affected_too_taps_do_not_make_emails(mailbox: Mailbox) -> None:
    from reports.affected import affected_add

    known_sender()
    confirmed_alert("votes@example.org", area_target(lat=-33.0, lng=27.9, radius_km=2))
    report = report_submit(title="Leak", description="x", report_type="issue", lng=27.9, lat=-33.0,
                           email="known@example.org")
    send_alerts_pass()
    mailbox.clear()
    affected_add(report=report, session_key="someone", address="10.0.0.1")
    affected_add(project=ProjectFactory(), session_key="someone", address="10.0.0.1")
    send_alerts_pass(now=timezone.now() + dt.timedelta(minutes=10))
    assert alert_emails(mailbox, "votes@example.org") == []


def test_an_alert_made_in_isizulu_is_written_in_isizulu(mailbox: Mailbox) -> None:
    project = ProjectFactory()
    alert_subscribe(email="zulu@example.org", target=AlertTarget(kind=AlertKind.PROJECT, project=project),
                    frequency=Frequency.IMMEDIATE, language="zu")
    send_alerts_pass()
    (message,) = mailbox.to("zulu@example.org")
    assert message["Content-Language"] == "zu"
    assert 'lang="zu"' in message.get_body(preferencelist=("html",)).get_content()


def test_a_refused_address_is_recorded_retried_with_backoff_and_paused_after_five_hard_failures(
        mailbox: Mailbox) -> None:
    project = ProjectFactory()
    mailbox.refuse.add("gone@example.org")
    alert_subscribe(email="gone@example.org", target=AlertTarget(kind=AlertKind.PROJECT, project=project),
                    frequency=Frequency.IMMEDIATE, language="en")
    now = timezone.now()
    waits = []
    for _attempt in range(5):
        send_alerts_pass(now=now)
        delivery = Delivery.objects.get()
        if delivery.next_attempt_at is not None and delivery.given_up_at is None:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at + dt.timedelta(seconds=1)
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4),
                     dt.timedelta(minutes=8)]
    subscriber = Subscriber.objects.get()
    assert subscriber.paused_at is not None and subscriber.hard_failures == 5
    assert Bounce.objects.filter(hard=True).count() == 5
    assert "550" in Bounce.objects.first().reason  # type: ignore[union-attr]
    assert Delivery.objects.get().given_up_at is not None
    assert mailbox.to("gone@example.org") == []


def test_a_server_that_cannot_be_reached_loses_nothing(mailbox: Mailbox, settings: object,
                                                       smtp_server: object) -> None:
    project = ProjectFactory()
    alert_subscribe(email="later@example.org", target=AlertTarget(kind=AlertKind.PROJECT, project=project),
                    frequency=Frequency.IMMEDIATE, language="en")
    port = settings.EMAIL_PORT  # type: ignore[attr-defined]
    settings.EMAIL_PORT = 1  # type: ignore[attr-defined]  # nothing listens there
    send_alerts_pass()
    delivery = Delivery.objects.get()
    assert delivery.sent_at is None and delivery.attempts == 1 and not Bounce.objects.exists()
    settings.EMAIL_PORT = port  # type: ignore[attr-defined]
    send_alerts_pass(now=timezone.now() + dt.timedelta(minutes=2))
    assert len(mailbox.to("later@example.org")) == 1


def test_a_report_outside_every_area_and_on_no_followed_project_makes_no_item(mailbox: Mailbox) -> None:
    from alerts.models import AlertItem

    confirmed_alert("far@example.org", area_target(lat=-22.95, lng=30.48, radius_km=1))
    report_submit(title="Far away", description="x", report_type="issue", lng=18.4, lat=-33.9)
    send_alerts_pass()
    assert not AlertItem.objects.exists()
    assert Point(30.48, -22.95, srid=4326)  # the area's centre, kept as given


def test_one_pass_sends_its_emails_over_one_smtp_session(mailbox: Mailbox, smtp_server: object) -> None:
    for n in range(3):
        alert_subscribe(email=f"s{n}@example.org", target=AlertTarget(kind=AlertKind.PROJECT,
                                                                     project=ProjectFactory()),
                        frequency=Frequency.IMMEDIATE, language="en")
    sessions = []
    original = smtp_server.mailbox.handle_DATA  # type: ignore[attr-defined]

    async def count_sessions(server: object, session: object, envelope: object) -> str:
        sessions.append(id(session))
        return await original(server, session, envelope)

    smtp_server.mailbox.handle_DATA = count_sessions  # type: ignore[attr-defined]
    send_alerts_pass()
    assert len(mailbox.messages) == 3 and len(set(sessions)) == 1


def test_bounces_reported_later_count_towards_the_pause(mailbox: Mailbox) -> None:
    from io import StringIO

    from django.core.management import call_command

    alert_subscribe(email="bouncy@example.org", target=AlertTarget(kind=AlertKind.PROJECT, project=ProjectFactory()),
                    frequency=Frequency.IMMEDIATE, language="en")
    out = StringIO()
    call_command("record_bounce", "nobody@example.org", stdout=out)
    assert "nothing recorded" in out.getvalue() and not Bounce.objects.exists()
    call_command("record_bounce", "Bouncy@example.org", "--soft", stdout=out)
    for _ in range(5):
        call_command("record_bounce", "bouncy@example.org", "--reason", "550 user unknown", stdout=out)
    subscriber = Subscriber.objects.get()
    assert subscriber.paused_at is not None and Bounce.objects.filter(hard=True).count() == 5
    assert Bounce.objects.filter(hard=False).count() == 1
    send_alerts_pass()
    assert mailbox.to("bouncy@example.org") == []


def test_a_change_two_alerts_share_is_told_once_and_names_its_data_source(mailbox: Mailbox) -> None:
    project = ProjectFactory(name="Bellville pump station")  # at -33.9249, 18.4241
    confirmed_alert("both@example.org", AlertTarget(kind=AlertKind.PROJECT, project=project))
    confirmed_alert("both@example.org", area_target(lat=-33.93, lng=18.43, radius_km=5))
    send_alerts_pass()
    mailbox.clear()
    _change_progress(project, "45")
    send_alerts_pass()
    (body,) = alert_emails(mailbox, "both@example.org")
    assert body.count("45%") == 1
    assert "Source: National Treasury" in body, body


def test_an_alert_email_in_isizulu_tells_its_changes_in_isizulu(mailbox: Mailbox) -> None:
    project = ProjectFactory(name="Umlazi reservoir")
    confirmed_alert("zulu2@example.org", AlertTarget(kind=AlertKind.PROJECT, project=project), language="zu")
    send_alerts_pass()
    mailbox.clear()
    _change_progress(project, "65")
    send_alerts_pass()
    (body,) = [text_of(m) for m in mailbox.to("zulu2@example.org")]
    assert "Okushintshile kusukela kwi-imeyili yethu yokugcina." in body
    assert "iphrojekthi “Umlazi reservoir”" in body and "65%" in body
    assert "What changed" not in body and "the project" not in body


def test_an_address_owed_thousands_of_changes_is_claimed_in_bounded_statements_and_told_briefly(
        mailbox: Mailbox, settings: object) -> None:
    """An ingestion run that changes a metro's every project owes its followers one item per project."""
    from alerts import delivery as delivery_module
    from alerts.emails import MAX_LINES_PER_SECTION

    project = ProjectFactory(name="Many changes")
    confirmed_alert("busy@example.org", AlertTarget(kind=AlertKind.PROJECT, project=project))
    send_alerts_pass()
    mailbox.clear()
    for progress in range(1, 46):
        _change_progress(project, str(progress))
    original = delivery_module.UPDATE_ITEMS
    delivery_module.UPDATE_ITEMS = 10  # forces the items over several statements
    try:
        send_alerts_pass()
    finally:
        delivery_module.UPDATE_ITEMS = original
    (body,) = alert_emails(mailbox, "busy@example.org")
    assert body.count("Many changes:") == MAX_LINES_PER_SECTION
    assert f"and {45 - MAX_LINES_PER_SECTION} more" in body
    assert Delivery.objects.get(kind="alerts").items.count() == 45
