"""Follow a project or a municipality: Atom and RSS feeds of its changes and its community reports' news
(new reports, their updates and new states).

Items come from the change log (the same rows as the project history), so a feed reader sees exactly what the
page shows. Reports and updates that moderators later hid are left out.
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from changelog.models import ChangeType, DataChangeLog, EntityType
from municipalities.models import Municipality
from projects.models import Project
from reports.history import change_sentences
from reports.models import Report, ReportStatus, ReportUpdate

FEED_SIZE = 50


def _entries(query: Q) -> list[DataChangeLog]:
    """Project changes and new reports matching `query`, newest first, with the names needed for titles."""
    rows = list(
        DataChangeLog.objects.filter(query)
        .filter(Q(entity_type=EntityType.PROJECT) | Q(entity_type=EntityType.REPORT, change_type=ChangeType.CREATED)
                # Updates and state changes carry the state; "affected too" taps and hiding do not.
                | Q(entity_type=EntityType.REPORT, new_values__has_key="state"))
        .order_by("-created_at", "-pk")[:FEED_SIZE]
    )
    report_ids = [int(r.entity_id) for r in rows if r.entity_type == EntityType.REPORT and r.entity_id.isdigit()]
    # Published reports and how many residents each affects (told in the item's description).
    visible = dict(Report.objects.published().filter(pk__in=report_ids).values_list("pk", "affected_count"))
    update_ids = {(r.new_values or {}).get("update_id") for r in rows if (r.new_values or {}).get("update_text")}
    hidden_updates = set(ReportUpdate.objects.filter(pk__in=update_ids - {None}).exclude(
        status=ReportStatus.PUBLISHED).values_list("pk", flat=True))
    project_ids = {r.project_id for r in rows if r.project_id}
    names = {str(pk): name for pk, name in Project.objects.filter(pk__in=project_ids).values_list("pk", "name")}
    kept = []
    for row in rows:
        if row.entity_type == EntityType.REPORT and int(row.entity_id) not in visible:
            continue
        if (row.new_values or {}).get("update_text") and row.new_values.get("update_id") in hidden_updates:
            continue  # an update moderators hid
        row.project_name = names.get(row.project_id, "")  # type: ignore[attr-defined]
        if row.entity_type == EntityType.REPORT:
            row.affected_count = visible[int(row.entity_id)]  # type: ignore[attr-defined]
        if change_sentences(row):
            kept.append(row)
    return kept


class _ChangeFeed(Feed):
    feed_type: type[SyndicationFeed] = Rss201rev2Feed

    def item_title(self, item: DataChangeLog) -> str:
        name = getattr(item, "project_name", "")
        if item.entity_type == EntityType.REPORT and item.change_type == ChangeType.CREATED:
            return _("New report: %(title)s") % {"title": (item.new_values or {}).get("title", "")}
        sentences = "; ".join(change_sentences(item))
        return f"{name}: {sentences}" if name else sentences

    def item_description(self, item: DataChangeLog) -> str:
        sentences = change_sentences(item)
        if item.entity_type == EntityType.REPORT:
            count = getattr(item, "affected_count", 0)
            sentences.append(ngettext("%(count)d resident says this affects them.",
                                      "%(count)d residents say this affects them.", count) % {"count": count})
        return " · ".join(sentences)

    def item_link(self, item: DataChangeLog) -> str:
        if item.entity_type == EntityType.REPORT:
            return reverse("reports:detail", args=[int(item.entity_id)])
        if item.project_id:
            return reverse("projects:detail", args=[item.project_id]) + f"#change-{item.pk}"
        return reverse("projects:home")

    def item_guid(self, item: DataChangeLog) -> str:
        return f"bukaamanzi-change-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: DataChangeLog) -> object:
        return item.created_at

    def item_updateddate(self, item: DataChangeLog) -> object:
        # Atom requires <updated> on every entry; a change-log row never changes after it is written.
        return item.created_at


class ProjectRssFeed(_ChangeFeed):
    def get_object(self, request: HttpRequest, pk: str) -> Project:
        return get_object_or_404(Project, pk=pk)

    def title(self, obj: Project) -> str:
        return _("Buka Amanzi: %(name)s") % {"name": obj.name}

    def link(self, obj: Project) -> str:
        return reverse("projects:detail", args=[obj.pk])

    def description(self, obj: Project) -> str:
        return _("Changes to this water project and new community reports about it.")

    def items(self, obj: Project) -> list[DataChangeLog]:
        return _entries(Q(project_id=str(obj.pk)))


class ProjectAtomFeed(ProjectRssFeed):
    feed_type = Atom1Feed
    subtitle = ProjectRssFeed.description


class MunicipalityRssFeed(_ChangeFeed):
    def get_object(self, request: HttpRequest, code: str) -> Municipality:
        return get_object_or_404(Municipality, code=code.upper())

    def title(self, obj: Municipality) -> str:
        return _("Buka Amanzi: %(name)s") % {"name": obj.name}

    def link(self, obj: Municipality) -> str:
        return reverse("municipalities:detail", args=[obj.code])

    def description(self, obj: Municipality) -> str:
        return _("Changes to water projects in this municipality and new community reports about them.")

    def items(self, obj: Municipality) -> list[DataChangeLog]:
        return _entries(Q(municipality_code=obj.code))


class MunicipalityAtomFeed(MunicipalityRssFeed):
    feed_type = Atom1Feed
    subtitle = MunicipalityRssFeed.description


