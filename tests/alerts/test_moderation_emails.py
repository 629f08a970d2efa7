"""Moderation notices, through a real SMTP server: a sender who gave an email gets one email per moderation
action that changed what they sent (what changed, the moderator's reason, how to reply), in their language,
exactly once, even when the item is deleted or a sender dies mid-send; the system's hides, internal notes and
anonymous senders get nothing."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections import Counter
from email.message import EmailMessage

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation

from alerts.delivery import send_alerts_pass
from alerts.models import Delivery, DeliveryKind, Subscriber
from alerts.moderation_notices import NOTICE_WITHIN, TOLD_ACTIONS, moderation_deliveries_create
from alerts.services import subscriber_pause
from changelog.models import AdminAction
from reports.flags import flag_add
from reports.lifecycle import report_set_state, update_add, update_flag
from reports.models import Report, ReportUpdate
from reports.services import moderate, report_add_note, report_flag, report_publish, report_submit
from tests.alerts.smtp import Mailbox, SmtpServer, html_of, text_of
from tests.alerts.test_exactly_once import Processes, processes  # noqa: F401  (the fixture)
from tests.test_setup import manage

pytestmark = pytest.mark.django_db
SENDER = "sipho@example.org"
MODERATION_SUBJECT = "a moderator's decision"


def afrikaans(text: str) -> str:
    """The Afrikaans catalogue's words for `text` (what an Afrikaans reader's email says)."""
    with translation.override("af"):
        return translation.gettext(text)


def reported(email: str = SENDER, **kwargs: object) -> Report:
    values: dict[str, object] = {"title": "No water in Ward 5", "description": "Taps dry since Monday",
                                 "report_type": "issue", "lng": 28.04, "lat": -26.2, "email": email,
                                 "name": "Sipho", **kwargs}
    return report_submit(**values)  # type: ignore[arg-type]


def notices(mailbox: Mailbox, address: str = SENDER) -> list[EmailMessage]:
    subjects = (MODERATION_SUBJECT, afrikaans("About %(which)s: a moderator's decision").split(": ", 1)[-1])
    return [m for m in mailbox.to(address) if any(subject in m["Subject"] for subject in subjects)]


def public_link(report: Report) -> str:
    return f"https://bukaamanzi.example/reports/{report.pk}/"


def whole(message: EmailMessage) -> str:
    return text_of(message) + html_of(message) + str(message["Subject"])


def delete(item: Report | ReportUpdate, *, reason: str) -> AdminAction:
    """A moderator's deletion as the deletion service records it: the action (the sender and the date, no text)
    and the row gone, in one transaction."""
    from django.db import transaction

    is_update = isinstance(item, ReportUpdate)
    metadata: dict[str, object] = {"contributor_id": item.contributor_id, "created_at": item.created_at.isoformat()}
    if isinstance(item, ReportUpdate):
        metadata["report_id"] = item.report_id
    with transaction.atomic():
        action = AdminAction.objects.create(admin_name="thandeka", target_type="report_update" if is_update
                                            else "report", target_id=str(item.pk), action="delete", reason=reason,
                                            metadata=metadata)
        item.delete()
    return action


def test_a_hidden_report_tells_its_sender_once_what_changed_and_why_in_their_language(
        mailbox: Mailbox, settings: pytest.FixtureRequest) -> None:
    settings.MODERATION_REPLY_TO = "Moderators <moderators@bukaamanzi.example>"
    report = reported(language="af")
    report_flag(reports=[report], moderator="thandeka", reason="It shows a neighbour's phone number")
    send_alerts_pass()
    send_alerts_pass()
    (email,) = notices(mailbox)
    body, html = text_of(email), html_of(email)
    assert email["Content-Language"] == "af" and '<html lang="af">' in html
    assert "Buka Amanzi: water- en sanitasieprojekte in Suid-Afrika" in body  # the Afrikaans catalogue
    assert "No water in Ward 5" in email["Subject"] and "No water in Ward 5" in body
    assert afrikaans("A moderator hid your report: the public no longer sees it.") in body
    assert "It shows a neighbour's phone number" in body
    # Reply: to the moderators, by the header and by a link; the moderator's user name stays in the admin.
    assert email["Reply-To"] == "Moderators <moderators@bukaamanzi.example>"
    assert "mailto:moderators@bukaamanzi.example?subject=" in html and "moderators@bukaamanzi.example" in body
    assert "thandeka" not in whole(email)
    assert email["List-Unsubscribe"] is None  # a notice about what they sent, not a list to leave
    # The report is hidden: its private link (which still opens) and no public link.
    assert f"/reports/{report.pk}/yours/" in body and public_link(report) not in body.split()
    assert Delivery.objects.filter(kind=DeliveryKind.MODERATION).count() == 1


def test_publishing_again_is_told_with_the_public_link_and_the_address_stays_private(
        mailbox: Mailbox, client: Client) -> None:
    report = reported()
    report_flag(reports=[report], moderator="m", reason="Checking")
    report_publish(reports=[report], moderator="m", reason="Nothing wrong with it")
    send_alerts_pass()
    hidden, shown = sorted(notices(mailbox), key=lambda m: "published your report again" in text_of(m))
    assert "A moderator hid your report" in text_of(hidden) and "Checking" in text_of(hidden)
    assert "A moderator published your report again" in text_of(shown)
    assert public_link(report) in text_of(shown).split()
    assert SENDER not in client.get(f"/reports/{report.pk}/").content.decode()
    assert SENDER not in client.get(f"/api/v1/reports/{report.pk}").content.decode()


def test_an_edit_names_the_fields_changed_never_the_text_removed(mailbox: Mailbox) -> None:
    report = reported(description="Call Thabo on 082 555 1234 about it", language="af")
    # As the edit service records it (moderate() also keeps the old values in the action, for moderators).
    moderate(reports=[report], moderator="m", action="edit", reason="Personal information removed",
             changes={"title": "No water in Ward 5 (Soweto)", "description": "Taps dry since Monday"},
             metadata={"fields": ["title", "description"]})
    moderate(reports=[report], moderator="m", action="revert", reason="The title was right",
             changes={"title": "No water in Ward 5"}, metadata={"fields": ["title", "no_such_field"]})
    send_alerts_pass()
    put_back = afrikaans("A moderator put back what you first wrote in your report. Put back: %(fields)s.")
    edit, revert = sorted(notices(mailbox), key=lambda m: put_back.split("%")[0] in text_of(m))
    assert afrikaans("A moderator edited your report. Changed: %(fields)s.") % {"fields": "titel, beskrywing"} \
        in text_of(edit)
    assert "Personal information removed" in text_of(edit)
    assert put_back % {"fields": "titel"} in text_of(revert)  # a name the model does not have is not shown
    for message in (edit, revert):
        assert "082 555 1234" not in whole(message) and "Thabo" not in whole(message)
        assert "no_such_field" not in whole(message)
        # The title as it is now, whatever it was when the edit was made.
        assert "“No water in Ward 5”" in message["Subject"]


def test_a_deleted_report_still_tells_its_sender_and_nothing_else_of_it(mailbox: Mailbox) -> None:
    report = reported(description="Something the moderator removed")
    sent_on = formats.date_format(timezone.localtime(report.created_at), "j F Y")
    moderation_deliveries_create()  # nothing owed yet
    report_flag(reports=[report], moderator="m", reason="Under review")
    moderation_deliveries_create()  # the hide's notice is written, not yet sent, when the report is deleted
    flag_notice = Delivery.objects.get(kind=DeliveryKind.MODERATION)
    deletion = delete(report, reason="Not about water: a private dispute")
    send_alerts_pass()
    send_alerts_pass()
    (email,) = notices(mailbox)
    body = text_of(email)
    assert "A moderator deleted your report" in body and "Not about water: a private dispute" in body
    assert sent_on in email["Subject"]
    assert "No water in Ward 5" not in whole(email) and "Something the moderator removed" not in whole(email)
    assert "/reports/" not in body
    flag_notice.refresh_from_db()
    assert flag_notice.given_up_at is not None and flag_notice.sent_at is None and "deleted" in flag_notice.last_error
    assert Delivery.objects.get(admin_action=deletion).sent_at is not None


def test_a_hide_not_yet_written_when_the_report_is_deleted_is_told_by_the_deletion_alone(mailbox: Mailbox) -> None:
    report = reported()
    report_flag(reports=[report], moderator="m", reason="Under review")
    delete(report, reason="Spam")
    send_alerts_pass()
    assert len(notices(mailbox)) == 1
    assert Delivery.objects.filter(kind=DeliveryKind.MODERATION).count() == 1


def test_updates_tell_their_own_sender_and_only_the_reporters_own_get_the_private_link(mailbox: Mailbox) -> None:
    report = reported()
    theirs = update_add(report=report, text="Still dry, call me on 071 000 0000", name="Lindiwe",
                        email="lindiwe@example.org")
    own = update_add(report=report, text="Water came back for an hour", by_reporter=True)
    update_flag(updates=[theirs, own], moderator="m", reason="Shows a phone number")
    AdminAction.objects.create(admin_name="m", target_type="report_update", target_id=str(own.pk), action="edit",
                               reason="Tidied", metadata={"fields": ["text"], "report_id": report.pk,
                                                          "old": {"text": "Water came back for an hour"}})
    send_alerts_pass()
    (other,) = notices(mailbox, "lindiwe@example.org")
    assert "A moderator hid your update" in text_of(other) and "on the report “No water in Ward 5”" in text_of(other)
    assert "/yours/" not in whole(other)  # not the reporter: never the reporter's link
    own_notices = sorted(notices(mailbox), key=lambda m: "edited" in text_of(m))
    assert len(own_notices) == 2
    assert all(f"/reports/{report.pk}/yours/" in text_of(m) for m in own_notices)
    assert "A moderator edited your update. Changed: text." in text_of(own_notices[1])
    assert "Water came back" not in whole(own_notices[1])
    mailbox.clear()
    deletion = delete(ReportUpdate.objects.get(pk=theirs.pk), reason="Personal information")
    send_alerts_pass()
    (deleted,) = notices(mailbox, "lindiwe@example.org")
    assert "A moderator deleted your update" in text_of(deleted) and "071 000 0000" not in whole(deleted)
    assert Delivery.objects.get(admin_action=deletion).sent_at is not None


def test_several_actions_on_one_report_are_one_email_each_sent_once(mailbox: Mailbox) -> None:
    report = reported()
    report_flag(reports=[report], moderator="m", reason="Checking the photo")
    for action in ("redact_photo", "hide_photo", "show_photo"):  # as the photo services record them
        AdminAction.objects.create(admin_name="m", target_type="report", target_id=str(report.pk), action=action,
                                   reason=f"Photo: {action}", metadata={"photo_id": 1})
    report_publish(reports=[report], moderator="m", reason="All fine now")
    send_alerts_pass()
    send_alerts_pass()
    bodies = [text_of(m) for m in notices(mailbox)]
    assert len(bodies) == 5
    for words in ("hid your report", "covered part of a photo", "hid a photo", "showed a photo",
                  "published your report again"):
        assert sum(words in body for body in bodies) == 1, words
    assert Delivery.objects.filter(kind=DeliveryKind.MODERATION, sent_at__isnull=False).count() == 5


def test_the_systems_hide_notes_and_filing_tell_nobody(mailbox: Mailbox) -> None:
    report = reported()
    for n in range(3):  # three residents flag it: the system hides it pending review
        flag_add(report=report, reason="spam", session_key=f"session-{n}", address=f"10.0.0.{n}")
    assert AdminAction.objects.filter(action="auto_hide").count() == 1
    report_add_note(reports=[report], note="Phoned the ward councillor", moderator="m", reason="Follow-up")
    report_set_state(reports=[report], state="acknowledged", moderator="m", reason="The municipality knows")
    send_alerts_pass()
    assert notices(mailbox) == []
    assert not Delivery.objects.filter(kind=DeliveryKind.MODERATION).exists()
    assert {"auto_hide", "note", "set_state", "ban", "link_project", "mark_duplicate"}.isdisjoint(TOLD_ACTIONS)


def test_senders_without_an_email_are_told_nothing(mailbox: Mailbox) -> None:
    anonymous = reported(email="", name="")
    named_only = reported(email="", name="Sipho")
    report_flag(reports=[anonymous, named_only], moderator="m", reason="Checking")
    send_alerts_pass()
    assert mailbox.messages == []
    assert not Delivery.objects.filter(kind=DeliveryKind.MODERATION).exists()
    assert not Subscriber.objects.exists()


def test_a_paused_address_is_given_up_not_sent(mailbox: Mailbox) -> None:
    report = reported()
    send_alerts_pass()  # the private link: the address now has its row
    subscriber_pause(subscribers=[Subscriber.objects.get(email=SENDER)], moderator="staff")
    mailbox.clear()
    report_flag(reports=[report], moderator="m", reason="Checking")
    send_alerts_pass()
    assert mailbox.messages == []
    notice = Delivery.objects.get(kind=DeliveryKind.MODERATION)
    assert notice.given_up_at is not None and notice.sent_at is None and notice.last_error == "The address is paused."


def test_moderation_older_than_the_window_is_not_mailed(mailbox: Mailbox) -> None:
    report = reported()
    report_flag(reports=[report], moderator="m", reason="Long ago")
    AdminAction.objects.filter(action="flag").update(created_at=timezone.now() - NOTICE_WITHIN - dt.timedelta(hours=1))
    send_alerts_pass()
    assert notices(mailbox) == []


def test_two_writers_at_once_write_each_notice_once() -> None:
    report = reported()
    report_flag(reports=[report], moderator="m", reason="Checking")
    moderation_deliveries_create()
    action = AdminAction.objects.get(action="flag")
    subscriber = Subscriber.objects.get(email=SENDER)
    # The same notice written again (as a second sender would, from what it read before the first wrote).
    Delivery.objects.bulk_create([Delivery(subscriber=subscriber, kind=DeliveryKind.MODERATION,
                                           admin_action=action, language="en") for _ in range(2)],
                                 ignore_conflicts=True)
    assert moderation_deliveries_create() == 0
    assert Delivery.objects.filter(admin_action=action).count() == 1


def test_writing_the_notices_takes_the_same_queries_for_3_or_30_actions() -> None:
    def queries_for(count: int) -> int:
        reports = [reported(f"s{count}-{n}@example.org") for n in range(count)]
        report_flag(reports=reports, moderator="m", reason="Checking")
        with CaptureQueriesContext(connection) as queries:
            assert moderation_deliveries_create() == count
        return len(queries)

    assert queries_for(3) == queries_for(30)


def test_a_bad_reply_to_stops_start_up_and_the_default_is_the_sender() -> None:
    result = manage("check", env={"MODERATION_REPLY_TO": "the moderators"})
    assert result.returncode != 0 and "MODERATION_REPLY_TO" in result.stderr
    shown = manage("shell", "-c", "from django.conf import settings as s; print(s.MODERATION_REPLY_TO == "
                   "s.DEFAULT_FROM_EMAIL)", env={"MODERATION_REPLY_TO": ""})
    assert shown.stdout.strip().splitlines()[-1] == "True", shown.stderr[-2000:]


# --- Exactly once with real processes (the machinery of test_exactly_once.py) ---------------------------------


def received(smtp_server: SmtpServer) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for message in smtp_server.mailbox.messages:
        subject = str(message["Subject"])
        kind = ("moderation: hid" if "hid your report" in text_of(message) else "moderation: published"
                ) if MODERATION_SUBJECT in subject else "link"
        counts[(message["To"], kind)] += 1
    return counts


EXPECTED_KINDS = ("moderation: hid", "moderation: published", "link")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_send_loses_no_notice_and_doubles_none(
        processes: Processes, smtp_server: SmtpServer) -> None:  # noqa: F811
    processes.manage("shell", "-c", "from tests.alerts.scenario import seed_moderations; seed_moderations(3)")
    smtp_server.mailbox.stall = True  # the server takes the first email's DATA and never answers
    sender = processes.start_sender()
    assert smtp_server.mailbox.stalled.wait(60), sender.communicate(timeout=5)
    sender.send_signal(signal.SIGKILL)
    sender.wait(timeout=10)
    smtp_server.mailbox.stall = False
    assert processes.count("__import__('alerts.models').models.Delivery.objects.filter(kind='moderation')"
                           ".count()") == 6
    assert processes.count("__import__('alerts.models').models.Delivery.objects.filter(sent_at__isnull=False)"
                           ".count()") == 0
    time.sleep(2.5)  # the dead sender's lease runs out
    processes.manage("send_alerts")
    processes.manage("send_alerts")
    assert received(smtp_server) == {(f"mod{n}@example.org", kind): 1 for n in range(3) for kind in EXPECTED_KINDS}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_every_notice_once(processes: Processes, smtp_server: SmtpServer) -> None:  # noqa: F811
    count = 15
    processes.manage("shell", "-c", f"from tests.alerts.scenario import seed_moderations; seed_moderations({count})")
    senders = [processes.start_sender() for _ in range(2)]
    for sender in senders:
        _out, errors = sender.communicate(timeout=120)
        assert sender.returncode == 0, errors.decode()[-3000:]
    processes.manage("send_alerts")
    assert received(smtp_server) == {
        (f"mod{n}@example.org", kind): 1 for n in range(count) for kind in EXPECTED_KINDS}
