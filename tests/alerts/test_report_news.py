"""Report updates and new states reach alert emails; hidden updates and votes do not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.delivery import send_alerts_pass
from alerts.models import AlertKind
from alerts.services import AlertTarget, area_target
from reports.lifecycle import report_set_state, update_add, update_flag
from reports.models import ReportState
from reports.services import report_submit
from tests.alerts.smtp import Mailbox
from tests.alerts.test_delivery import alert_emails, confirmed_alert, known_sender
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_an_update_saying_fixed_is_told_with_its_text_and_the_new_state(mailbox: Mailbox) -> None:
    known_sender()
    confirmed_alert("near@example.org", area_target(lat=-26.2, lng=28.04, radius_km=3))
    report = report_submit(title="Burst main on Jan Smuts", description="x", report_type="issue", lng=28.041,
                           lat=-26.201, email="known@example.org")
    send_alerts_pass()
    mailbox.clear()
    update_add(report=report, text="Crews closed the valve and replaced the pipe.", fixed=True)
    send_alerts_pass(now=timezone.now() + dt.timedelta(minutes=10))
    (email,) = alert_emails(mailbox, "near@example.org")
    assert "Crews closed the valve and replaced the pipe." in email
    assert "is now fixed, says a resident" in email


def test_a_moderators_new_state_is_news_but_hiding_an_update_keeps_it_out(mailbox: Mailbox) -> None:
    project = ProjectFactory(name="Soweto sewer upgrade")
    confirmed_alert("project@example.org", AlertTarget(kind=AlertKind.PROJECT, project=project))
    report = report_submit(title="Manhole overflowing", description="x", report_type="issue", lng=27.86,
                           lat=-26.26, project=project)
    send_alerts_pass(now=timezone.now() + dt.timedelta(hours=2))
    mailbox.clear()
    report_set_state(reports=[report], state=ReportState.IN_PROGRESS, moderator="m", reason="team on site")
    hidden = update_add(report=report, text="Offensive words here")
    update_flag(updates=[hidden], moderator="m", reason="offensive")
    send_alerts_pass(now=timezone.now() + dt.timedelta(hours=3))
    (email,) = alert_emails(mailbox, "project@example.org")
    assert "is now in progress" in email
    assert "Offensive words here" not in email
