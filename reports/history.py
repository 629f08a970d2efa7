"""What a change-log row about a report says in plain words: a new report, an update, a new state.

The project history, the feeds and the alert emails all call `change_sentences` here, which hands project
changes to `projects.history`, so a report's news reads the same everywhere.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from changelog.models import ChangeSource, ChangeType, DataChangeLog, EntityType
from projects import history as project_history
from reports.models import StateSetBy
from reports.states import state_sentence

EXCERPT = 140


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def report_sentences(entry: DataChangeLog) -> list[str]:
    new, old = entry.new_values or {}, entry.old_values or {}
    title = new.get("title", "")
    when = project_history.date_text(entry.created_at)
    if entry.change_type == ChangeType.CREATED:
        return [_("New community report “%(title)s” on %(date)s") % {"title": title, "date": when}]
    sentences = []
    if new.get("update_text"):
        sentences.append(_("Update on “%(title)s” on %(date)s: “%(text)s”")
                         % {"title": title, "date": when, "text": _excerpt(str(new["update_text"]))})
    fields = set(entry.field_changes or ())
    if "state" in fields and new.get("state") and old.get("state") != new.get("state"):
        set_by = StateSetBy.MODERATOR if entry.source == ChangeSource.ADMIN_ACTION else new.get("state_set_by", "")
        sentences.append(_("“%(title)s” is now %(state)s (%(date)s)")
                         % {"title": title or _("The report"), "state": state_sentence(new["state"], set_by),
                            "date": when})
    return sentences


def change_sentences(entry: DataChangeLog) -> list[str]:
    """One sentence per change a resident would care about, for projects and reports alike."""
    if entry.entity_type == EntityType.REPORT:
        return report_sentences(entry)
    return project_history.change_sentences(entry)
