"""The moderation queue in the admin: a "needs review" filter on the report and update lists (`?queue=…`), which
keeps the items waiting for a moderator (reports.queue says which), oldest waiting first, and shows why each
waits. The lists' own actions, each asking one reason, then work on the queue; acting on an item reviews it,
which takes it out.

A filter rather than proxy-model admins: a proxy model would need a migration and a second set of permissions,
while the filter reuses the lists, their actions and the Moderator group's permissions as they are.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Literal

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports.models import Flag, FlagReason, Report, ReportStatus, ReportUpdate
from reports.queue import UPDATE_PARTS, Waiting, queue, waiting_since

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

QUEUE_PARAMETER = "queue"
ALL_WAITING = "all"


def _parts(model: type[Any]) -> tuple[Waiting, ...]:
    return tuple(Waiting) if model is Report else UPDATE_PARTS


def queue_choice(request: HttpRequest, model: type[Any]) -> str | None:
    """The part of the queue the list shows ("all" for every part), or None when it shows no queue."""
    value = request.GET.get(QUEUE_PARAMETER)
    return value if value == ALL_WAITING or value in _parts(model) else None


class QueueFilter(admin.SimpleListFilter):
    title = _("needs review")
    parameter_name = QUEUE_PARAMETER

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrPromise]]:
        return [(ALL_WAITING, _("Waiting (oldest first)")),
                *((part.value, part.label) for part in _parts(model_admin.model))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value != ALL_WAITING and value not in _parts(queryset.model):
            return queryset
        # The page's active flags in one query, for the "why it waits" column.
        active = Flag.objects.filter(cleared_at__isnull=True).order_by("created_at", "pk")
        return queue(queryset, None if value == ALL_WAITING else value).prefetch_related(
            Prefetch("flags", queryset=active, to_attr="queue_flags"))


def why_waiting(item: Report | ReportUpdate) -> str:
    """"Held: first-time sender; 3 flags: Spam (2), Offensive (1)" for one item of the queue."""
    reasons: list[str] = []
    if getattr(item, "held", False):
        reasons.append(str(Waiting.HELD.label))
    if item.status == ReportStatus.FLAGGED:
        reasons.append(str(Waiting.HIDDEN.label))
    reviewed = item.reviewed_at
    flags = [flag for flag in getattr(item, "queue_flags", [])
             if reviewed is None or flag.created_at > reviewed]
    if flags:
        counts = Counter(flag.reason for flag in flags)
        listed = ", ".join(f"{FlagReason(reason).label} ({count})" for reason, count in counts.most_common())
        reasons.append(ngettext("%(count)d flag: %(reasons)s", "%(count)d flags: %(reasons)s", len(flags))
                       % {"count": len(flags), "reasons": listed})
    return "; ".join(reasons) or "-"


class QueueChangeList(ChangeList):
    """The queue's list: its headers mark "waiting since" as the order (the admin would mark its default)."""

    def get_ordering_field_columns(self) -> dict[int, Literal["desc", "asc"]]:
        if ORDER_VAR in self.params:
            return super().get_ordering_field_columns()
        return {self.list_display.index("waits_since"): "asc"}


class QueueAdminMixin(admin.ModelAdmin):
    """Adds the queue to a moderated list: the filter first, and while it is on, the oldest waiting first with a
    column saying why each waits."""

    def get_list_filter(self, request: HttpRequest) -> Any:
        return (QueueFilter, *super().get_list_filter(request))

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        if queue_choice(request, self.model) is not None:
            return QueueChangeList
        return super().get_changelist(request, **kwargs)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        if queue_choice(request, self.model) is not None:
            # Dates by creation mean little in a queue ordered by waiting time, and the links cost two more passes
            # over the queue (on SQLite a Python call per row: seconds with 100,000 reports).
            changelist.date_hierarchy = None
        return changelist

    def get_ordering(self, request: HttpRequest) -> Any:
        if queue_choice(request, self.model) is not None:
            # The expression rather than the filter's annotation: the admin orders its base queryset too.
            return (waiting_since(self.model).asc(), "pk")
        return super().get_ordering(request)

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = tuple(super().get_list_display(request))
        if queue_choice(request, self.model) is not None:
            return (*shown[:2], "why_it_waits", "waits_since", *shown[2:])
        return shown

    @admin.display(description=_("why it waits"))
    def why_it_waits(self, obj: Report | ReportUpdate) -> str:
        return why_waiting(obj)

    @admin.display(description=_("waiting since"), ordering="waiting_since")
    def waits_since(self, obj: Report | ReportUpdate) -> Any:
        return getattr(obj, "waiting_since", None)
