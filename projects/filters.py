"""The project filters, shared by the pages, the API, the map layer and the exports.

One Django form validates the query string (so bad input is reported per field, in words, for both HTML and
JSON), and `apply` turns the valid values into QuerySet calls. Spatial filters take plain numbers and build
geometries with SRID 4326 here: no user-supplied spatial reference ever reaches GDAL.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db import connection
from django.db.models import FloatField, Func, Q
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from bukaamanzi.lib.geo import box_around
from municipalities.models import Municipality, Province
from projects.models import ProjectQuerySet, RedFlag, Status

MAX_RADIUS_KM = 500


def _floats(value: str, count: int, field: str) -> list[float]:
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != count:
        raise forms.ValidationError(_("%(field)s needs %(count)d numbers separated by commas."),
                                    params={"field": field, "count": count})
    try:
        numbers = [float(part) for part in parts]
    except ValueError as exc:
        raise forms.ValidationError(_("%(field)s must contain only numbers."), params={"field": field}) from exc
    if any(n != n or n in (float("inf"), float("-inf")) for n in numbers):
        raise forms.ValidationError(_("%(field)s must contain only finite numbers."), params={"field": field})
    return numbers


def _check_lng_lat(lng: float, lat: float) -> None:
    if not -180 <= lng <= 180:
        raise forms.ValidationError(_("Longitude must be between -180 and 180."))
    if not -90 <= lat <= 90:
        raise forms.ValidationError(_("Latitude must be between -90 and 90."))


class MultipleChoiceCSVField(forms.MultipleChoiceField):
    """Accepts `status=a&status=b` and `status=a,b` alike."""

    def to_python(self, value: Any) -> list[str]:
        values = super().to_python([value] if isinstance(value, str) else value)
        return [part.strip() for item in values for part in item.split(",") if part.strip()]


class ProjectFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All provinces")),
                                                                               *Province.choices])
    municipality = forms.CharField(label=_("Municipality"), required=False, max_length=64,
                                   help_text=_("MDB code or id"))
    status = MultipleChoiceCSVField(label=_("Status"), required=False, choices=Status.choices)
    project_type = forms.CharField(label=_("Project type"), required=False, max_length=200)
    flag = forms.ChoiceField(label=_("Red flag"), required=False, choices=[("", _("Any")), *RedFlag.choices])
    bbox = forms.CharField(label=_("Map area"), required=False, help_text=_("minlng,minlat,maxlng,maxlat"))
    center = forms.CharField(label=_("Around a point"), required=False, help_text=_("lng,lat,radius_km"))

    def clean_municipality(self) -> Municipality | None:
        value = (self.cleaned_data.get("municipality") or "").strip()
        if not value:
            return None
        found = Municipality.objects.filter(Q(code__iexact=value) | _uuid_q(value)).first()
        if found is None:
            raise forms.ValidationError(_("No municipality has the code or id %(value)s."), params={"value": value})
        return found

    def clean_bbox(self) -> Polygon | None:
        value = self.cleaned_data.get("bbox")
        if not value:
            return None
        min_lng, min_lat, max_lng, max_lat = _floats(value, 4, "bbox")
        _check_lng_lat(min_lng, min_lat)
        _check_lng_lat(max_lng, max_lat)
        if min_lng >= max_lng or min_lat >= max_lat:
            raise forms.ValidationError(_("bbox must be minlng,minlat,maxlng,maxlat with min below max."))
        return Polygon.from_bbox((min_lng, min_lat, max_lng, max_lat))

    def clean_center(self) -> tuple[Point, float] | None:
        value = self.cleaned_data.get("center")
        if not value:
            return None
        lng, lat, radius = _floats(value, 3, "center")
        _check_lng_lat(lng, lat)
        if not 0 < radius <= MAX_RADIUS_KM:
            raise forms.ValidationError(_("The radius must be more than 0 and at most %(max)d km."),
                                        params={"max": MAX_RADIUS_KM})
        return Point(lng, lat, srid=4326), radius

    def errors_by_field(self) -> dict[str, list[str]]:
        return {field: [str(message) for message in messages] for field, messages in self.errors.items()}

    def apply(self, queryset: ProjectQuerySet, *, bbox: bool = True) -> ProjectQuerySet:
        """Narrow the queryset by the valid filters (all but the map area with bbox=False). Call after is_valid()."""
        data = self.cleaned_data
        if data.get("q"):
            text = data["q"]
            queryset = queryset.filter(Q(name__icontains=text) | Q(description__icontains=text)
                                       | Q(contractor__icontains=text) | Q(municipality__name__icontains=text))
        if data.get("province"):
            queryset = queryset.filter(municipality__province=data["province"])
        if data.get("municipality") is not None:
            queryset = queryset.in_municipality(data["municipality"])
        if data.get("status"):
            queryset = queryset.with_status(*data["status"])
        if data.get("project_type"):
            queryset = queryset.filter(project_type__iexact=data["project_type"])
        if data.get("flag"):
            queryset = queryset.with_flag(data["flag"])
        if bbox and data.get("bbox") is not None:
            queryset = queryset.filter(inside_box(data["bbox"]))
        if data.get("center") is not None:
            point, radius_km = data["center"]
            # A box around the circle first, so the spatial index narrows the rows the exact distance checks.
            queryset = queryset.filter(index_box_q(_box_around(point, radius_km)),
                                       location__distance_lte=(point, D(km=radius_km)))
        return queryset


def index_box_q(box: Polygon) -> Q:
    """Rows whose location may lie in the box, as the spatial index sees it (a superset: check exactly after).

    PostGIS: the bare `&&` operator, answered by the GiST index without the per-row ST_Intersects that cost more
    than the rest of a country-wide map query. SpatiaLite: ST_Intersects (its `&&` counterpart, MbrOverlaps,
    means something else); its R*Tree pre-filter is added by `maplayer.indexed`.
    """
    if connection.vendor == "postgresql":
        return Q(location__bboverlaps=box)
    return Q(location__intersects=box)


def inside_box(box: Polygon) -> Q:
    """Exactly the points in the box, edges included (what ST_Intersects gives for a point and a rectangle),
    checked on the plain coordinates after the index narrowed the rows."""
    min_x, min_y, max_x, max_y = box.extent
    lng, lat = Func("location", function="ST_X", output_field=FloatField()), Func(
        "location", function="ST_Y", output_field=FloatField())
    return index_box_q(box) & Q(GreaterThanOrEqual(lng, min_x), LessThanOrEqual(lng, max_x),
                                GreaterThanOrEqual(lat, min_y), LessThanOrEqual(lat, max_y))


def _uuid_q(value: str) -> Q:
    try:
        return Q(pk=uuid.UUID(value))
    except ValueError:
        return Q(pk__in=[])


def _box_around(point: Point, radius_km: float) -> Polygon:
    """A lng/lat box that holds the circle (bukaamanzi.lib.geo.box_around)."""
    return Polygon.from_bbox(box_around(lng=point.x, lat=point.y, radius_km=radius_km))
