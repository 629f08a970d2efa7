"""Template helpers for report pages: the state line ("Fixed, says a resident, on 4 December 2026")."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from reports.models import Report
from reports.states import state_sentence

register = template.Library()


@register.simple_tag
def report_state(report: Report) -> str:
    sentence = capfirst(state_sentence(report.state, report.state_set_by))
    if report.state_changed_at is None:
        return str(sentence)
    when = formats.date_format(timezone.localtime(report.state_changed_at), "j F Y")
    return _("%(state)s, on %(date)s") % {"state": sentence, "date": when}
