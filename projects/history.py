"""Project history in plain words, from the change log.

The change log stores machine values (status codes, decimal strings, ISO dates); residents read
"status changed from Preparation to Implementation on 3 March 2026". Used by the project page, its live
pushes and the feeds, so the wording is the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from bukaamanzi.lib.money import format_zar
from changelog.models import ChangeType, DataChangeLog, EntityType
from projects.models import Project, Status

# Fields that say nothing to a resident (or are covered by another sentence).
QUIET_FIELDS = {"raw_data", "skipped_locked", "source_api_id", "is_demo", "location", "content_hash",
                "affected_count"}


def date_text(value: dt.date | dt.datetime) -> str:
    """A date as the history writes it (3 March 2026), in South African time."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "j F Y")


def _label(field: str) -> str:
    if field == "budgets":
        return _("budget figures")
    try:
        model_field = Project._meta.get_field(field)
    except FieldDoesNotExist:
        model_field = None
    # Only concrete fields have a verbose name; relations and unknown names read as their words.
    if isinstance(model_field, models.Field):
        return str(model_field.verbose_name)
    return field.replace("_", " ")


def _show(field: str, value: Any) -> str:
    if value in (None, ""):
        return _("nothing")
    if field == "status":
        try:
            return str(Status(value).label)
        except ValueError:
            return str(value)
    if field in ("budget_allocated", "budget_spent"):
        return format_zar(value)
    if field == "progress_percentage":
        try:
            return f"{Decimal(str(value)).normalize():f}%"
        except InvalidOperation:
            return str(value)
    if field in ("start_date", "end_date"):
        try:
            return date_text(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def change_sentences(entry: DataChangeLog) -> list[str]:
    """One sentence per change to a project a resident would care about (reports: `reports.history`)."""
    when = date_text(entry.created_at)
    if entry.entity_type == EntityType.REPORT:
        return []
    if entry.change_type == ChangeType.CREATED:
        return [_("Project added by %(source)s on %(date)s") % {"source": entry.get_source_display().lower(),
                                                                  "date": when}]
    if entry.change_type == ChangeType.DELETED:
        return [_("Project removed on %(date)s") % {"date": when}]
    sentences = []
    old, new = entry.old_values or {}, entry.new_values or {}
    for field in entry.field_changes or sorted(set(old) | set(new)):
        if field in QUIET_FIELDS:
            continue
        if field == "budgets":
            sentences.append(_("budget figures per financial year updated on %(date)s") % {"date": when})
            continue
        before, after = _show(field, old.get(field)), _show(field, new.get(field))
        if before == after:  # e.g. "5" and "5.00": the same value written differently
            continue
        sentences.append(
            _("%(field)s changed from %(old)s to %(new)s on %(date)s")
            % {"field": _label(field), "old": before, "new": after, "date": when}
        )
    return sentences
