"""The alert emails as residents read them: plain text and HTML, in the language the alert was made in.

Every email carries its unsubscribe link in the body and in `List-Unsubscribe` with
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), so a mail program can unsubscribe in one click.
Moderation notices are the exception: they tell a sender what was done to what they sent, which they cannot opt
out of, so they have no unsubscribe link; they have a `Reply-To` (`MODERATION_REPLY_TO`) instead.
The Message-ID is fixed per delivery: if a sender dies after the server took the email but before the
delivery was marked sent, the second copy has the same Message-ID and mail programs show it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alerts import tokens
from alerts.models import Alert, AlertItem, AlertKind, Delivery, DeliveryKind
from alerts.moderation_notices import Notice, notice_of
from bukaamanzi.lib.sources import source_info
from changelog.models import ChangeSource, ChangeType, DataChangeLog, EntityType
from projects.models import Project
from reports import tokens as report_tokens
from reports.history import change_sentences
from reports.models import QuestionnaireAnswer


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def describe(alert: Alert) -> str:
    """What the alert follows, in words."""
    if alert.kind == AlertKind.PROJECT and alert.project is not None:
        return _("the project “%(name)s”") % {"name": alert.project.name}
    if alert.kind == AlertKind.MUNICIPALITY and alert.municipality is not None:
        return _("%(name)s (%(code)s)") % {"name": alert.municipality.name, "code": alert.municipality.code}
    place = alert.place or (f"{alert.center.y:.4f}, {alert.center.x:.4f}" if alert.center is not None else "")
    return _("the area within %(km)s km of %(place)s") % {"km": alert.radius_km, "place": place}


def page_of(alert: Alert) -> str:
    if alert.kind == AlertKind.PROJECT and alert.project_id:
        return absolute(reverse("projects:detail", args=[alert.project_id]))
    if alert.kind == AlertKind.MUNICIPALITY and alert.municipality is not None:
        return absolute(reverse("municipalities:detail", args=[alert.municipality.code]))
    if alert.center is not None:  # the home page's list and map, filtered to the circle
        center = f"{alert.center.x:.5f},{alert.center.y:.5f},{alert.radius_km}"
        return absolute(reverse("projects:home")) + f"?center={center}"
    return absolute(reverse("projects:home"))


REPORTER_KINDS = (DeliveryKind.REPORTER_LINK, DeliveryKind.QUESTIONNAIRE)


def _message_id(delivery: Delivery) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<alerts.{delivery.pk}.{int(delivery.created_at.timestamp())}@{domain}>"


# An ingestion run can change hundreds of a metro's projects at once: an email lists this many per alert and
# counts the rest, rather than running to pages on a phone.
MAX_LINES_PER_SECTION = 30


@dataclass
class Line:
    text: str
    url: str
    source: str
    when: str


@dataclass
class Section:
    alert: Alert
    title: str
    url: str
    unsubscribe_url: str
    lines: list[Line] = field(default_factory=list)
    more: int = 0  # lines past MAX_LINES_PER_SECTION, told as a number with the link to the page


def _source(change: DataChangeLog, project_source: str) -> str:
    """Who made the change, as residents read it: the data source by name, a moderator, or a resident."""
    if change.source == ChangeSource.ETL_PIPELINE and project_source:
        return str(source_info(project_source).title)
    return str(change.get_source_display())


def _lines(change: DataChangeLog, projects: dict[str, tuple[str, str]]) -> list[Line]:
    when = formats.date_format(timezone.localtime(change.created_at), "j F Y, H:i")
    name, project_source = projects.get(change.project_id, ("", ""))
    source = _source(change, project_source)
    if change.entity_type == EntityType.REPORT:
        title = (change.new_values or {}).get("title") or ""
        url = absolute(reverse("reports:detail", args=[change.entity_id]))
        if change.change_type == ChangeType.CREATED:
            texts = [_("New community report: “%(title)s”") % {"title": title}]
        else:
            texts = change_sentences(change) or [_("Community report updated: “%(title)s”") % {"title": title}]
        return [Line(text=text, url=url, source=source, when=when) for text in texts]
    url = absolute(reverse("projects:detail", args=[change.project_id])) if change.project_id else ""
    prefix = f"{name}: " if name and change.change_type != ChangeType.CREATED else ""
    return [Line(text=prefix + sentence, url=url, source=source, when=when) for sentence in change_sentences(change)]


ALERT_FIELDS = ("pk", "kind", "subscriber_id", "center", "radius_km", "place", "frequency", "confirmed_at",
                "unsubscribed_at", "project__id", "project__name", "municipality__id", "municipality__name",
                "municipality__code")


def contents_of(deliveries: list[Delivery]) -> dict[int, list[Section]]:
    """What each alert delivery tells, in its own language, in four queries for the whole batch.

    A batch's emails share few changes and alerts among many items (1,000 changes made 34,647 items in the
    bench), so each change and alert is read once and each change's lines are written once per language:
    building them per item made most of the send's time.
    """
    rows = list(AlertItem.objects.filter(delivery__in=[d.pk for d in deliveries])
                .order_by("delivery_id", "alert_id", "change_id").values_list("delivery_id", "alert_id", "change_id"))
    alerts = Alert.objects.filter(pk__in={alert_id for _, alert_id, _ in rows}).select_related(
        "project", "municipality").only(*ALERT_FIELDS).in_bulk()
    changes = DataChangeLog.objects.filter(pk__in={change_id for _, _, change_id in rows}).in_bulk()
    # Each line names its project (a municipality's or an area's email covers many) and its data source.
    projects = {str(pk): (name, source) for pk, name, source in Project.objects.filter(
        pk__in={c.project_id for c in changes.values() if c.project_id}).values_list("pk", "name", "source")}
    by_delivery: dict[int, list[tuple[Alert, DataChangeLog]]] = {}
    for delivery_id, alert_id, change_id in rows:
        by_delivery.setdefault(delivery_id, []).append((alerts[alert_id], changes[change_id]))
    languages = {d.pk: d.language for d in deliveries}
    lines: dict[tuple[int, str], list[Line]] = {}
    contents = {}
    for delivery_id, entries in by_delivery.items():
        language = languages[delivery_id]
        with translation.override(language):
            contents[delivery_id] = _sections(entries, projects, lines, language)
    return contents


def sections_of(delivery: Delivery) -> list[Section]:
    return contents_of([delivery]).get(delivery.pk, [])


def _sections(entries: list[tuple[Alert, DataChangeLog]], projects: dict[str, tuple[str, str]],
              lines: dict[tuple[int, str], list[Line]], language: str) -> list[Section]:
    by_alert: dict[int, Section] = {}
    shown: set[int] = set()  # a change two alerts share is told once, under the first
    for alert, change in entries:
        section = by_alert.get(alert.pk)
        if section is None:
            section = by_alert[alert.pk] = Section(
                alert=alert, title=describe(alert), url=page_of(alert),
                unsubscribe_url=absolute(reverse("alerts:unsubscribe", args=[tokens.make(tokens.UNSUBSCRIBE,
                                                                                          [alert.pk])])))
        if change.pk not in shown:
            shown.add(change.pk)
            key = (change.pk, language)
            if key not in lines:
                lines[key] = _lines(change, projects)
            section.lines.extend(lines[key])
    for section in by_alert.values():
        section.more = max(0, len(section.lines) - MAX_LINES_PER_SECTION)
        del section.lines[MAX_LINES_PER_SECTION:]
    return [section for section in by_alert.values() if section.lines]


def _reporter_email(delivery: Delivery) -> tuple[str, str, dict[str, object], str]:
    """(subject, template, context, List-Unsubscribe URL) of an email to a report's sender."""
    report = delivery.report
    assert report is not None
    opt_out_url = absolute(reverse("alerts:no_questionnaire", args=[
        tokens.make(tokens.NO_QUESTIONNAIRE, delivery.subscriber_id)]))
    context: dict[str, object] = {
        "title": report.title, "sent_on": formats.date_format(timezone.localtime(report.created_at), "j F Y"),
        "report_url": absolute(reverse("reports:detail", args=[report.pk])),
        "yours_url": absolute(reverse("reports:yours", args=[report.pk, report_tokens.reporter_token(report.pk)])),
        "opt_out_url": opt_out_url,
    }
    if delivery.kind == DeliveryKind.REPORTER_LINK:
        return (_("Your report “%(title)s” is published") % {"title": report.title}, "alerts/email/reporter_link",
                context, opt_out_url)
    context["answers"] = [
        (str(label), absolute(reverse("reports:answer", args=[report.pk, report_tokens.answer_token(report.pk,
                                                                                                     value)])))
        for value, label in QuestionnaireAnswer.choices]
    return (_("Is it fixed? Your report “%(title)s”") % {"title": report.title}, "alerts/email/questionnaire",
            context, opt_out_url)


def _sent_on(when: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(when), "j F Y")


def _which(notice: Notice) -> str:
    """The item a moderation notice is about, in words: its date and, unless it was deleted, its current title
    (an update is named by its report's title)."""
    title = notice.report.title if notice.report is not None else ""
    if notice.deleted and not notice.is_update:
        title = ""  # nothing of a deleted report is kept, and the notice shows nothing of it but its date
    date = _sent_on(notice.sent_at) if notice.sent_at is not None else ""
    if notice.is_update:
        if title and date:
            return _("your update of %(date)s on the report “%(title)s”") % {"date": date, "title": title}
        if date:
            return _("your update of %(date)s") % {"date": date}
        return _("your update on the report “%(title)s”") % {"title": title} if title else _("your update")
    if title and date:
        return _("your report “%(title)s” of %(date)s") % {"title": title, "date": date}
    return _("your report of %(date)s") % {"date": date} if date else _("your report")


def _moderation_email(delivery: Delivery, notice: Notice | None) -> tuple[str, str, dict[str, object], str]:
    """(subject, template, context, "") of a moderation notice: what changed and why, and how to reply. The
    moderator is "a moderator": staff user names stay in the admin, since a moderator may live in the same town as
    the sender, and the decision is the site's, answered through the shared reply address."""
    action = delivery.admin_action
    assert action is not None
    notice = notice or notice_of(action)
    assert notice is not None  # the sender gives up a notice whose item is gone (alerts.delivery)
    which = _which(notice)
    subject = _("About %(which)s: a moderator's decision") % {"which": which}
    reply_to = parseaddr(settings.MODERATION_REPLY_TO)[1]
    report = notice.report
    context: dict[str, object] = {
        "which": which, "what_changed": notice.what_changed(), "reason": action.reason,
        "reply_to": reply_to, "reference": action.pk,
        "reply_url": f"mailto:{reply_to}?subject=" + quote("Re: " + subject + f" [#{action.pk}]"),
        "report_url": absolute(reverse("reports:detail", args=[report.pk]))
        if report is not None and notice.report_is_public else "",
        "yours_url": absolute(reverse("reports:yours", args=[report.pk, report_tokens.reporter_token(report.pk)]))
        if report is not None and notice.private_link else "",
    }
    return subject, "alerts/email/moderation", context, ""


def _confirmation_email(delivery: Delivery, manage_url: str) -> tuple[str, str, dict[str, object], str]:
    alert = delivery.alert
    assert alert is not None
    context: dict[str, object] = {
        "target": describe(alert), "frequency": alert.get_frequency_display(),
        "already": alert.confirmed_at is not None, "manage_url": manage_url,
        "confirm_url": absolute(reverse("alerts:confirm", args=[tokens.make(tokens.CONFIRM, alert.pk)])),
        "days": settings.ALERT_CONFIRM_DAYS,
    }
    subject = (_("You already follow %(target)s") if context["already"]
               else _("Please confirm your alert for %(target)s")) % {"target": context["target"]}
    return subject, "alerts/email/confirm", context, _unsubscribe_url([alert.pk])


def _alerts_email(delivery: Delivery, sections: list[Section] | None,
                  manage_url: str) -> tuple[str, str, dict[str, object], str]:
    sections = sections if sections is not None else sections_of(delivery)
    count = sum(len(section.lines) + section.more for section in sections)
    context: dict[str, object] = {"sections": sections, "manage_url": manage_url,
                                  "daily": delivery.frequency == "daily"}
    subject = ngettext("%(count)d update on %(target)s", "%(count)d updates on %(target)s", count) % {
        "count": count, "target": sections[0].title if len(sections) == 1 else _("what you follow")}
    return subject, "alerts/email/alerts", context, _unsubscribe_url([section.alert.pk for section in sections])


def _unsubscribe_url(alert_ids: list[int]) -> str:
    return absolute(reverse("alerts:unsubscribe", args=[tokens.make(tokens.UNSUBSCRIBE, alert_ids)]))


def build(delivery: Delivery, sections: list[Section] | None = None, *,
          notice: Notice | None = None) -> EmailMultiAlternatives:
    """The email for a delivery (sections: an alert email's content, from `sections_of`; notice: a moderation
    notice's, from `moderation_notices.notice_of`, read here when not given)."""
    subscriber = delivery.subscriber
    manage_url = absolute(reverse("alerts:manage", args=[tokens.make(tokens.MANAGE, subscriber.pk)]))
    with translation.override(delivery.language):
        if delivery.kind in REPORTER_KINDS:
            subject, template, context, unsubscribe_url = _reporter_email(delivery)
        elif delivery.kind == DeliveryKind.MODERATION:
            subject, template, context, unsubscribe_url = _moderation_email(delivery, notice)
        elif delivery.kind == DeliveryKind.CONFIRMATION:
            subject, template, context, unsubscribe_url = _confirmation_email(delivery, manage_url)
        else:
            subject, template, context, unsubscribe_url = _alerts_email(delivery, sections, manage_url)
        context |= {"manage_url": manage_url, "unsubscribe_url": unsubscribe_url, "LANGUAGE_CODE": delivery.language}
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    headers = {"Message-ID": _message_id(delivery), "Auto-Submitted": "auto-generated",
               "Content-Language": delivery.language}
    if unsubscribe_url:
        headers |= {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(
        subject=subject[:200], body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[subscriber.email],
        reply_to=[settings.MODERATION_REPLY_TO] if delivery.kind == DeliveryKind.MODERATION else None,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
