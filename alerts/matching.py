"""Which alerts a change concerns: the change log turned into alert items.

Each pass takes change-log rows not yet matched (`alerts_matched=False`), works out which confirmed alerts each
concerns, writes one `AlertItem` per pair and marks the rows matched, all in one transaction. The unique
constraint on (alert, change) means two senders matching the same rows at once write each item once (the
second's duplicates are ignored).

- A project alert gets the project's changes and its reports.
- A municipality alert gets changes to its projects and reports on them, and new reports inside its boundary; a
  district's includes its local municipalities'.
- An area alert gets changes to projects and reports whose point lies within its radius. Candidates come from
  the spatial index (GiST on PostGIS, the R*Tree on SpatiaLite) by a box around the point as wide as the largest
  radius; the exact great-circle distance decides.

Left out: "affected too" counts (counts, not news) and moderators' actions on reports other than a new state (a
report hidden by moderation is not news to the public either; the send step drops its items).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import QuerySet

from alerts.models import Alert, AlertItem, AlertKind
from alerts.services import MAX_RADIUS_KM
from bukaamanzi.lib.geo import box_around, distance_km
from bukaamanzi.lib.spatial import X, Y, box_overlaps
from changelog.models import ChangeSource, DataChangeLog, EntityType
from municipalities.models import Municipality
from projects.models import Project
from reports.models import Report

BATCH = 500
# Counts, not news (a project's count is a project field, so the project check below uses the same set).
QUIET_FIELDS = {"affected_count"}


def area_candidates(point: Point) -> QuerySet[Alert]:
    """Confirmed area alerts whose centre may be within MAX_RADIUS_KM of the point, as the spatial index sees it.
    Paused addresses are left to the claim (their items wait, then expire): checking them here joined every
    address to every area query."""
    candidates = Alert.objects.filter(kind=AlertKind.AREA, confirmed_at__isnull=False, unsubscribed_at__isnull=True)
    return box_overlaps(candidates, "center", box_around(lng=point.x, lat=point.y, radius_km=float(MAX_RADIUS_KM)))


def area_alerts_near(point: Point) -> list[Alert]:
    """Area alerts whose circle holds the point: the index narrows, the great-circle distance decides. The
    centres come as plain numbers (decoding a geometry per candidate was most of the match's time)."""
    rows = area_candidates(point).values_list("pk", "confirmed_at", "radius_km", X("center"), Y("center"))
    return [Alert(pk=pk, confirmed_at=confirmed_at, kind=AlertKind.AREA)
            for pk, confirmed_at, radius_km, lng, lat in rows
            if distance_km(point.x, point.y, lng, lat) <= float(radius_km)]


def _worth_alerting(change: DataChangeLog) -> bool:
    if change.entity_type == EntityType.REPORT:
        fields = set(change.field_changes or ())
        if change.source == ChangeSource.ADMIN_ACTION:
            # Hiding, notes and links are not news; a moderator saying "in progress" or "fixed" is.
            return "state" in fields
        return not (fields and fields <= QUIET_FIELDS)
    if change.entity_type == EntityType.PROJECT and change.field_changes and set(change.field_changes) <= QUIET_FIELDS:
        return False
    return change.entity_type in (EntityType.PROJECT, EntityType.BUDGET)


class _Batch:
    """What one batch of changes needs from other tables, read in a few queries."""

    def __init__(self, changes: list[DataChangeLog]) -> None:
        report_ids = [int(c.entity_id) for c in changes if c.entity_type == EntityType.REPORT and c.entity_id.isdigit()]
        # The public point: a report shown "only roughly" must not be placed more exactly by who gets its alert.
        self.reports = {r.pk: r for r in Report.objects.filter(pk__in=report_ids).only(
            "pk", "public_location", "project_id")}
        project_ids = {c.project_id for c in changes if c.project_id}
        self.project_points = dict(
            Project.objects.filter(pk__in=project_ids, location__isnull=False).values_list("pk", "location"))
        codes = {c.municipality_code for c in changes if c.municipality_code}
        # The municipality and, for a local one, its district: both are followed by the change.
        self.municipality_ids: dict[str, set[uuid.UUID]] = defaultdict(set)
        for code, pk, district_id in Municipality.objects.filter(code__in=codes).values_list("code", "pk", "district"):
            self.municipality_ids[code].update(x for x in (pk, district_id) if x is not None)
        self.by_project: dict[str, list[Alert]] = defaultdict(list)
        for alert in Alert.objects.active().filter(kind=AlertKind.PROJECT, project__in=project_ids).only(
                "pk", "project_id", "confirmed_at"):
            self.by_project[str(alert.project_id)].append(alert)
        wanted = {pk for ids in self.municipality_ids.values() for pk in ids}
        self.by_municipality: dict[uuid.UUID | None, list[Alert]] = defaultdict(list)
        for alert in Alert.objects.active().filter(kind=AlertKind.MUNICIPALITY, municipality__in=wanted).only(
                "pk", "municipality_id", "confirmed_at"):
            self.by_municipality[alert.municipality_id].append(alert)

    def point_of(self, change: DataChangeLog) -> Point | None:
        if change.entity_type == EntityType.REPORT:
            report = self.reports.get(int(change.entity_id)) if change.entity_id.isdigit() else None
            return report.public_location if report is not None else None
        project_id = _uuid_or_none(change.project_id)
        return self.project_points.get(project_id) if project_id is not None else None

    def municipalities_of(self, change: DataChangeLog, point: Point | None) -> set[uuid.UUID]:
        if change.municipality_code:
            return self.municipality_ids.get(change.municipality_code, set())
        if change.entity_type == EntityType.REPORT and point is not None:
            # A report on no project: the municipality whose boundary holds it, and that one's district.
            found = Municipality.objects.filter(boundary__contains=point).values_list("pk", "district")
            ids = {x for pair in found for x in pair if x is not None}
            for alert in Alert.objects.active().filter(kind=AlertKind.MUNICIPALITY, municipality__in=ids).only(
                    "pk", "municipality_id", "confirmed_at"):
                if alert not in self.by_municipality[alert.municipality_id]:
                    self.by_municipality[alert.municipality_id].append(alert)
            return ids
        return set()


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def items_for(changes: list[DataChangeLog]) -> list[AlertItem]:
    """The alert items these changes make (pure reads; nothing written)."""
    batch = _Batch(changes)
    items: list[AlertItem] = []
    for change in changes:
        if not _worth_alerting(change):
            continue
        point = batch.point_of(change)
        alerts: dict[int, Alert] = {}
        for alert in batch.by_project.get(change.project_id, ()):
            alerts[alert.pk] = alert
        for municipality_id in batch.municipalities_of(change, point):
            for alert in batch.by_municipality.get(municipality_id, ()):
                alerts[alert.pk] = alert
        if point is not None:
            for alert in area_alerts_near(point):
                alerts[alert.pk] = alert
        report_id = int(change.entity_id) if change.entity_type == EntityType.REPORT and change.entity_id.isdigit() \
            else None
        for alert in alerts.values():
            # An alert hears of what happened after it was confirmed, not before.
            if alert.confirmed_at is not None and alert.confirmed_at <= change.created_at:
                items.append(AlertItem(alert_id=alert.pk, change_id=change.pk,
                                       report_id=report_id if report_id in batch.reports else None))
    return items


def alert_items_match(*, batch_size: int = BATCH) -> int:
    """Match every unmatched change; returns the number of items written."""
    written = 0
    while True:
        with transaction.atomic():
            rows = DataChangeLog.objects.unmatched()
            if connection.vendor == "postgresql":
                # A second sender takes other rows rather than waiting on these (SQLite's writes queue anyway).
                rows = rows.select_for_update(skip_locked=True)
            changes = list(rows[:batch_size])
            if not changes:
                return written
            items = items_for(changes)
            AlertItem.objects.bulk_create(items, ignore_conflicts=True, batch_size=500)
            DataChangeLog.objects.filter(pk__in=[c.pk for c in changes]).update(alerts_matched=True)
            written += len(items)
