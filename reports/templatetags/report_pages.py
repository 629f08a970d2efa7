"""Template helpers for report pages: the state line ("Fixed, says a resident, on 4 December 2026") and the
reporter's answer to "is it fixed?"."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from reports.models import QuestionnaireAnswer, Report
from reports.states import state_sentence

register = template.Library()


@register.simple_tag
def report_state(report: Report) -> str:
    sentence = capfirst(state_sentence(report.state, report.state_set_by))
    if report.state_changed_at is None:
        return str(sentence)
    when = formats.date_format(timezone.localtime(report.state_changed_at), "j F Y")
    return _("%(state)s, on %(date)s") % {"state": sentence, "date": when}


@register.simple_tag
def questionnaire_line(report: Report) -> str:
    """The reporter's answer to "is it fixed?", with its date."""
    if not report.questionnaire_answer or report.questionnaire_answered_at is None:
        return ""
    when = formats.date_format(timezone.localtime(report.questionnaire_answered_at), "j F Y")
    sentences = {
        QuestionnaireAnswer.YES: _("The reporter said it is fixed on %(date)s."),
        QuestionnaireAnswer.NO: _("The reporter said it is not fixed on %(date)s."),
        QuestionnaireAnswer.DONT_KNOW: _("The reporter did not know on %(date)s whether it is fixed."),
    }
    return sentences[QuestionnaireAnswer(report.questionnaire_answer)] % {"date": when}
