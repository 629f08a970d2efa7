"""Emails to a report's sender, through a real SMTP server: the private link once, "is it fixed?" once after four
weeks (unless fixed, hidden or opted out), and the pages their links open."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from alerts.delivery import send_alerts_pass
from alerts.models import Delivery, DeliveryKind
from changelog.models import AdminAction
from reports.models import Report, ReportState, StateSetBy
from reports.services import report_flag, report_submit
from tests.alerts.smtp import Mailbox, text_of

pytestmark = pytest.mark.django_db
LATER = dt.timedelta(days=29)


def problem(email: str = "sipho@example.org", **kwargs: object) -> Report:
    return report_submit(title="No water in Ward 5", description="Taps dry since Monday", report_type="issue",
                         lng=28.04, lat=-26.2, email=email, name="Sipho", **kwargs)  # type: ignore[arg-type]


def link(text: str, path: str) -> str:
    match = re.search(rf"https://bukaamanzi\.example({re.escape(path)}[^\s\"<]+)", text)
    assert match, text
    return match.group(1)


def test_the_sender_gets_the_private_link_once(mailbox: Mailbox) -> None:
    report = problem()
    send_alerts_pass()
    send_alerts_pass()
    (email,) = mailbox.to("sipho@example.org")
    assert "is published" in email["Subject"] and email["List-Unsubscribe"]
    body = text_of(email)
    assert f"/reports/{report.pk}/" in body and "/yours/" in body
    assert Delivery.objects.filter(report=report, kind=DeliveryKind.REPORTER_LINK).count() == 1
    anonymous = report_submit(title="x", description="y", report_type="issue", lng=28.0, lat=-26.0)
    send_alerts_pass()
    assert not Delivery.objects.filter(report=anonymous).exists()


def test_the_private_page_lets_the_reporter_update_reopen_hide_their_name_and_ask_for_removal(
        mailbox: Mailbox, client: Client) -> None:
    report = problem()
    send_alerts_pass()
    yours = link(text_of(mailbox.to("sipho@example.org")[0]), f"/reports/{report.pk}/yours/")
    assert client.get(yours).status_code == 200
    assert client.get(yours[:-3] + "xyz/").status_code == 404
    client.post(yours, {"action": "update", "text": "Water is back", "outcome": "fixed"})
    report.refresh_from_db()
    assert (report.state, report.state_set_by) == (ReportState.FIXED, StateSetBy.REPORTER)
    client.post(yours, {"action": "update", "text": "Dry again tonight", "outcome": "not_fixed"})
    report.refresh_from_db()
    assert report.state == ReportState.OPEN and report.updates.filter(by_reporter=True).count() == 2
    client.post(yours, {"action": "hide_name"})
    report.refresh_from_db()
    assert report.contributor_name == ""
    assert "Sipho" not in client.get(f"/reports/{report.pk}/").content.decode()
    assert client.post(yours, {"action": "removal", "reason": ""}).status_code == 400
    client.post(yours, {"action": "removal", "reason": "It shows my neighbour's house"})
    report.refresh_from_db()
    assert report.removal_requested_at is not None
    assert AdminAction.objects.get(target_id=str(report.pk), action="removal_requested").admin_name == "reporter"


def test_four_weeks_on_the_reporter_is_asked_once_and_the_answer_sets_the_state(mailbox: Mailbox,
                                                                              client: Client) -> None:
    report = problem()
    send_alerts_pass()
    mailbox.clear()
    send_alerts_pass(now=timezone.now() + dt.timedelta(days=27))
    assert mailbox.to("sipho@example.org") == []
    send_alerts_pass(now=timezone.now() + LATER)
    send_alerts_pass(now=timezone.now() + LATER + dt.timedelta(days=1))
    (email,) = mailbox.to("sipho@example.org")
    assert "Is it fixed?" in email["Subject"]
    body = text_of(email)
    yes = link(body, f"/reports/{report.pk}/answer/")
    page = client.get(yes)
    assert page.status_code == 200 and "Yes, it is fixed" in page.content.decode()
    report.refresh_from_db()
    assert report.state == ReportState.OPEN  # opening the link changes nothing
    response = client.post(yes, follow=True)
    html = response.content.decode()
    report.refresh_from_db()
    assert (report.state, report.state_set_by, report.questionnaire_answer) == ("fixed", "reporter", "yes")
    assert "Fixed, says the reporter, on" in html and "The reporter said it is fixed on" in html


def test_no_questionnaire_for_fixed_hidden_news_or_opted_out_reports(mailbox: Mailbox, client: Client) -> None:
    from reports.lifecycle import update_add

    fixed = problem("a@example.org")
    update_add(report=fixed, text="fixed", fixed=True)
    hidden = problem("b@example.org")
    report_flag(reports=[hidden], moderator="m", reason="abuse")
    news = report_submit(title="Pipes laid", description="d", report_type="progress_update", lng=28.0, lat=-26.0,
                         email="c@example.org")
    opted = problem("d@example.org")
    send_alerts_pass()
    opt_out = link(text_of(mailbox.to("d@example.org")[0]), "/alerts/no-questionnaire/")
    assert "Do not ask me again" in client.get(opt_out).content.decode()
    client.post(opt_out)  # the page's button (a one-click POST from a mail program works the same)
    mailbox.clear()
    send_alerts_pass(now=timezone.now() + LATER)
    assert [m["To"] for m in mailbox.messages] == []
    assert Delivery.objects.filter(report=opted, kind=DeliveryKind.QUESTIONNAIRE, given_up_at__isnull=False).exists()
    assert not Delivery.objects.filter(report__in=[fixed, hidden, news], kind=DeliveryKind.QUESTIONNAIRE).exists()


def test_a_report_fixed_after_the_question_was_written_is_not_asked(mailbox: Mailbox) -> None:
    from alerts.reporters import reporter_deliveries_create
    from reports.lifecycle import update_add

    report = problem()
    send_alerts_pass()
    mailbox.clear()
    reporter_deliveries_create(now=timezone.now() + LATER)
    update_add(report=report, text="fixed meanwhile", fixed=True)
    send_alerts_pass(now=timezone.now() + LATER)
    assert mailbox.to("sipho@example.org") == []
    delivery = Delivery.objects.get(report=report, kind=DeliveryKind.QUESTIONNAIRE)
    assert delivery.given_up_at is not None and delivery.sent_at is None


def test_answers_no_and_dont_know_and_bad_links(mailbox: Mailbox, client: Client) -> None:
    from reports.lifecycle import update_add
    from reports.tokens import answer_token, reporter_token

    report = problem()
    update_add(report=report, text="fixed", fixed=True)  # a resident said so; the reporter disagrees
    client.post(f"/reports/{report.pk}/answer/{answer_token(report.pk, 'no')}/")
    report.refresh_from_db()
    assert (report.state, report.questionnaire_answer) == (ReportState.OPEN, "no")
    assert "The reporter said it is not fixed on" in client.get(f"/reports/{report.pk}/").content.decode()
    client.post(f"/reports/{report.pk}/answer/{answer_token(report.pk, 'dont_know')}/")
    report.refresh_from_db()
    assert (report.state, report.questionnaire_answer) == (ReportState.OPEN, "dont_know")
    other = problem("other@example.org")
    for url in (f"/reports/{other.pk}/answer/{answer_token(report.pk, 'yes')}/",  # another report's link
                f"/reports/{report.pk}/answer/{answer_token(report.pk, 'maybe')}/",
                f"/reports/{report.pk}/answer/not-a-token/",
                f"/reports/{other.pk}/yours/{reporter_token(report.pk)}/"):
        assert client.post(url).status_code == 404, url
    other.refresh_from_db()
    assert other.questionnaire_answer == ""
    assert client.get("/alerts/no-questionnaire/forged/").status_code in (400, 404)


def test_two_passes_at_once_write_each_email_once() -> None:
    from alerts.reporters import reporter_deliveries_create

    report = problem()
    reporter_deliveries_create()
    Delivery.objects.filter(report=report).delete()
    # The same owed email written twice (as two senders would): the unique constraint keeps one.
    from alerts.models import Subscriber

    subscriber = Subscriber.objects.get(email="sipho@example.org")
    rows = [Delivery(subscriber=subscriber, kind=DeliveryKind.REPORTER_LINK, report=report, language="en")
            for _ in range(2)]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    reporter_deliveries_create()
    assert Delivery.objects.filter(report=report, kind=DeliveryKind.REPORTER_LINK).count() == 1
