"""The change log and the moderation log in the admin: read-only for everyone, superusers included.

`ReadOnlyAdminMixin` is shared by every admin whose rows only services may write (audit rows, ingestion runs,
rows that come from the sources), so that nothing reaches public data or the audit trail around a service.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from changelog.models import AdminAction, DataChangeLog


class ReadOnlyAdminMixin:
    """No add, change or delete through the admin for anyone; viewing follows the usual view permission."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def pretty_json(value: object) -> str:
    return format_html('<pre class="audit-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(DataChangeLog)
class DataChangeLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at", "entity_type", "entity_id", "change_type", "source", "fields_changed", "municipality_code",
        "notification_sent",
    )
    list_filter = ("source", "entity_type", "change_type", "notification_sent")
    search_fields = ("=entity_id", "=project_id", "=municipality_code")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 100
    fields = (
        "created_at", "entity_type", "entity_id", "change_type", "source", "municipality_code", "project_id",
        "field_changes", "old_values_pretty", "new_values_pretty", "notification_sent",
    )
    readonly_fields = fields

    @admin.display(description=_("fields changed"))
    def fields_changed(self, obj: DataChangeLog) -> str:
        return ", ".join(obj.field_changes or [])

    @admin.display(description=_("old values"))
    def old_values_pretty(self, obj: DataChangeLog) -> str:
        return pretty_json(obj.old_values)

    @admin.display(description=_("new values"))
    def new_values_pretty(self, obj: DataChangeLog) -> str:
        return pretty_json(obj.new_values)


@admin.register(AdminAction)
class AdminActionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "admin_name", "action", "target", "short_reason")
    list_filter = ("action", "target_type")
    search_fields = ("admin_name", "=target_id", "reason")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 100
    fields = ("created_at", "admin_name", "action", "target", "reason", "metadata_pretty")
    readonly_fields = fields

    _TARGET_ADMIN = {"report": "admin:reports_report_change", "project": "admin:projects_project_change"}

    @admin.display(description=_("target"), ordering="target_id")
    def target(self, obj: AdminAction) -> SafeString | str:
        url_name = self._TARGET_ADMIN.get(obj.target_type)
        label = f"{obj.target_type} {obj.target_id}"
        if url_name is None:
            return label
        return format_html('<a href="{}">{}</a>', reverse(url_name, args=[obj.target_id]), label)

    @admin.display(description=_("reason"))
    def short_reason(self, obj: AdminAction) -> str:
        return obj.reason if len(obj.reason) <= 80 else obj.reason[:79] + "…"

    @admin.display(description=_("details"))
    def metadata_pretty(self, obj: AdminAction) -> str:
        return pretty_json(obj.metadata)
