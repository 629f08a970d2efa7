"""The South Africa bounding box (the one definition for ingestion, the report form, the map and Leaflet), and
the box and great-circle distance that spatial look-ups narrow by and decide with.

A generous box around mainland South Africa (Cape Agulhas -34.83, Pafuri -22.13, Orange River mouth 16.45 E,
Kosi Bay 32.89 E). It also covers Lesotho, Eswatini and slivers of neighbours: it catches the common errors
(0/0, swapped or unsigned values, points in Europe), not every misplaced point; a boundary check belongs to the
spatial database. Earlier copies disagreed on the western edge (16.0 and 16.3); both hold the Orange River
mouth, and 16.0 keeps the margin the other edges have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class BoundingBox:
    min_lng: Decimal
    min_lat: Decimal
    max_lng: Decimal
    max_lat: Decimal

    def contains(self, *, lng: float | Decimal, lat: float | Decimal) -> bool:
        """Edges included. Decimal compares exactly with floats, so a float just outside is outside."""
        return self.min_lng <= lng <= self.max_lng and self.min_lat <= lat <= self.max_lat

    def extent(self) -> tuple[float, float, float, float]:
        """(min lng, min lat, max lng, max lat): GeoDjango's and django-leaflet's order."""
        return float(self.min_lng), float(self.min_lat), float(self.max_lng), float(self.max_lat)

    def leaflet_bounds(self) -> list[list[float]]:
        """[[south, west], [north, east]]: what Leaflet's fitBounds takes."""
        return [[float(self.min_lat), float(self.min_lng)], [float(self.max_lat), float(self.max_lng)]]


def box_around(*, lng: float, lat: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min lng, min lat, max lng, max lat) of a box that holds the circle: generous, 110 km per degree of
    latitude, widened by cos(lat), so an index narrows by it and an exact distance decides after."""
    dlat = radius_km / 110.0
    dlng = radius_km / max(110.0 * math.cos(math.radians(lat)), 1.0)
    return lng - dlng, lat - dlat, lng + dlng, lat + dlat


ROUGH_GRID_M = 500


def snap_to_grid(*, lng: float, lat: float, metres: float = ROUGH_GRID_M) -> tuple[float, float]:
    """The centre of the grid cell (about `metres` on a side) holding the point: a place shown "only roughly".
    Rows are 1/222 degree of latitude apart (500 m); a row's cells are as wide in metres, so they get wider in
    degrees away from the equator. The same point always snaps to the same centre, so repeats reveal nothing."""
    step_lat = metres / 111_000.0
    row = math.floor(lat / step_lat)
    centre_lat = (row + 0.5) * step_lat
    step_lng = metres / (111_000.0 * max(math.cos(math.radians(centre_lat)), 0.01))
    column = math.floor(lng / step_lng)
    return round((column + 0.5) * step_lng, 6), round(centre_lat, 6)


EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def distance_km(lng_a: float, lat_a: float, lng_b: float, lat_b: float) -> float:
    """Great-circle distance (haversine) between two lng/lat points, in km."""
    lng1, lat1, lng2, lat2 = map(math.radians, (lng_a, lat_a, lng_b, lat_b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


SOUTH_AFRICA = BoundingBox(min_lng=Decimal("16"), min_lat=Decimal("-35"), max_lng=Decimal("33"), max_lat=Decimal("-22"))
