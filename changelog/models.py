"""The bottom of the house: the change log and the moderation log, which every domain app writes.

This app imports no other app of the project (only Django and `bukaamanzi.lib`), so that every app can
import it without a cycle. Both tables were created by `realtime` and `reports` and keep their names
(`Meta.db_table`): moving a model between apps then needs no data copy on SpatiaLite or PostGIS.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EntityType(models.TextChoices):
    PROJECT = "project", _("Project")
    MUNICIPALITY = "municipality", _("Municipality")
    REPORT = "report", _("Report")
    BUDGET = "budget", _("Budget")


class ChangeType(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    DELETED = "deleted", _("Deleted")


class ChangeSource(models.TextChoices):
    ETL_PIPELINE = "etl_pipeline", _("Data source")
    ADMIN_ACTION = "admin_action", _("Moderator")
    COMMUNITY_REPORT = "community_report", _("Community report")


class DataChangeLogQuerySet(models.QuerySet["DataChangeLog"]):
    def unsent(self) -> DataChangeLogQuerySet:
        return self.filter(notification_sent=False).order_by("pk")

    def unmatched(self) -> DataChangeLogQuerySet:
        return self.filter(alerts_matched=False).order_by("pk")

    def for_entity(self, entity_type: str, entity_id: object) -> DataChangeLogQuerySet:
        return self.filter(entity_type=entity_type, entity_id=str(entity_id))


class DataChangeLog(models.Model):
    """Audit trail, project history, replay buffer and outbox for live updates. Written by
    `changelog.services` only."""

    entity_type = models.CharField(_("entity type"), max_length=20, choices=EntityType.choices)
    entity_id = models.CharField(_("entity id"), max_length=64)
    # The municipality code and project the change belongs to, so the relay can address groups without
    # reading other tables.
    municipality_code = models.CharField(_("municipality code"), max_length=10, blank=True)
    project_id = models.CharField(_("project id"), max_length=64, blank=True)
    # The project's status and type as they were at this change (not only when they changed), so that live
    # clients' filters can be applied to the pushed message alone, without a database read per message.
    project_status = models.CharField(_("project status"), max_length=20, blank=True)
    project_type = models.CharField(_("project type"), max_length=200, blank=True)
    change_type = models.CharField(_("change"), max_length=10, choices=ChangeType.choices)
    field_changes = models.JSONField(_("fields changed"), default=list, blank=True)
    old_values = models.JSONField(_("old values"), default=dict, blank=True)
    new_values = models.JSONField(_("new values"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=ChangeSource.choices)
    notification_sent = models.BooleanField(_("sent to live clients"), default=False)
    # The email alerts' own mark (alerts.matching): each reader of the outbox keeps its own, so neither waits
    # for the other. A flag rather than a cursor because ids commit out of order on PostgreSQL.
    alerts_matched = models.BooleanField(_("matched to email alerts"), default=False)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    objects = DataChangeLogQuerySet.as_manager()

    class Meta:
        db_table = "realtime_datachangelog"  # created by the realtime app; kept so that the move copied nothing
        verbose_name = _("data change")
        verbose_name_plural = _("data changes")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["entity_type", "entity_id"], name="changelog_entity_idx"),
            models.Index(fields=["project_id", "created_at"], name="changelog_project_idx"),
            models.Index(fields=["municipality_code", "created_at"], name="changelog_muni_idx"),
            models.Index(
                fields=["notification_sent"],
                name="changelog_unsent_idx",
                condition=models.Q(notification_sent=False),
            ),
            models.Index(fields=["id"], name="changelog_alerts_unmatched_idx",
                         condition=models.Q(alerts_matched=False)),
        ]

    def __str__(self) -> str:
        return f"{self.change_type} {self.entity_type} {self.entity_id}"


class AdminAction(models.Model):
    """The moderation log: who did what to which row, and why. Written by services, never edited."""

    admin_name = models.CharField(_("moderator"), max_length=150)
    target_type = models.CharField(_("target type"), max_length=50)
    target_id = models.CharField(_("target id"), max_length=64)
    action = models.CharField(_("action"), max_length=50)
    reason = models.TextField(_("reason"))
    metadata = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = "reports_adminaction"  # created by the reports app; kept so that the move copied nothing
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="adminaction_target_idx")]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="adminaction_reason_required")]

    def __str__(self) -> str:
        return f"{self.admin_name}: {self.action} {self.target_type} {self.target_id}"
