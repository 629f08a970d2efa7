"""Open311 records in the admin, read only: which key sent which report, and the `media_url` the client gave
(never fetched nor shown to the public; a moderator may follow it). The report itself is moderated in the
report admin; a record goes when its report is deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from open311.models import Open311Request


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ("token", "report", "api_key", "created_at")
    list_select_related = ("report", "api_key")
    search_fields = ("=token", "=report__id")
    readonly_fields = ("token", "report", "api_key", "media_url", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
