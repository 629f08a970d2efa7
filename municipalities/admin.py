"""Municipalities in the admin: shown, searched and picked (autocomplete), never edited here.

Municipalities come from the reference list, the gazetteer and the sources through `municipalities.services`,
which record each change; editing them here would bypass that. Their point and boundary are shown on a
read-only Leaflet map (`readonly_map`, also used by the report pages) that loads nothing but Leaflet's own
files and the configured tile URL.
"""

from __future__ import annotations

import json
from itertools import count

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.gis.geos import GEOSGeometry
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from changelog.admin import ReadOnlyAdminMixin
from municipalities.models import CapitalSpend, Municipality

_map_ids = count(1)
# Boundaries are detailed; ~100 m is plenty to check a shape on a small map and keeps the page light.
_BOUNDARY_TOLERANCE_DEGREES = 0.001


def readonly_map(*geometries: GEOSGeometry | None, label: str) -> SafeString | str:
    """A small non-editable map of the given geometries (GeoJSON inlined), or '-' when there are none."""
    features = []
    for geometry in geometries:
        if geometry is None:
            continue
        if geometry.geom_type != "Point":
            geometry = geometry.simplify(_BOUNDARY_TOLERANCE_DEGREES, preserve_topology=True)
        features.append({"type": "Feature", "geometry": json.loads(geometry.geojson), "properties": {}})
    if not features:
        return "-"
    number = next(_map_ids)
    return render_to_string(
        "admin/fragments/readonly_map.html",
        {
            "map_name": f"readonly_map_{number}",
            "data_id": f"readonly-map-data-{number}",
            "label": label,
            "geojson": {"type": "FeatureCollection", "features": features},
        },
    )


class CapitalSpendInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CapitalSpend
    fields = ("financial_year", "amount_type", "amount", "source", "fetched_at")
    readonly_fields = fields
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "code", "name", "province", "category", "district_code", "project_count", "total_value", "point_method",
        "disestablished",
    )
    list_filter = ("province", "category", "point_method", "disestablished")
    search_fields = ("code", "name", "long_name", "seat")
    list_select_related = ("district",)
    ordering = ("code",)
    fieldsets = (
        (None, {"fields": ("code", "name", "long_name", "province", "category", "district", "seat", "website")}),
        (_("Place"), {"fields": ("map", "point_method", "point_reference")}),
        (_("Figures"), {"fields": (
            "project_count", "total_value", "dashboard_url", "dws_project_count", "dws_total_value", "dws_fetched_at",
        )}),
        (_("Record"), {"fields": ("disestablished", "created_at", "updated_at")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = (CapitalSpendInline,)

    @admin.display(description=_("district"), ordering="district__code")
    def district_code(self, obj: Municipality) -> str:
        district = obj.district
        return district.code if district is not None else "-"

    @admin.display(description=_("point and boundary"))
    def map(self, obj: Municipality) -> SafeString | str:
        return readonly_map(obj.boundary, obj.point, label=_("Map of %(name)s") % {"name": obj.name})


@admin.register(CapitalSpend)
class CapitalSpendAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("municipality", "financial_year", "amount_type", "amount", "fetched_at")
    list_filter = ("financial_year", "amount_type")
    search_fields = ("municipality__code", "municipality__name")
    list_select_related = ("municipality",)
    show_full_result_count = False
