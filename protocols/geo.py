"""Where on Earth: one great-circle distance and one country lookup for the whole project.

The car, the backend's PSAP directory, the assistance rules and the service-partner map all
measure with the same Earth radius and name the same country for a position, so a car the
scenario places in Cologne is in DE for every part that asks.

The country comes from real geography, offline: the nearest populated place in the GeoNames
extract shipped by ``reverse_geocode``. A position farther than ``MAX_PLACE_DISTANCE_KM``
from any place (at sea) has no country.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Final

import reverse_geocode

EARTH_RADIUS_KM: Final = 6371.0088  # IUGG mean radius
MAX_PLACE_DISTANCE_KM: Final = 60.0


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in km; a scalar, for one pair of points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


@lru_cache(maxsize=4096)
def _country_near(lat: float, lon: float) -> str | None:
    place = reverse_geocode.get((lat, lon))
    if km_between(lat, lon, place["latitude"], place["longitude"]) > MAX_PLACE_DISTANCE_KM:
        return None
    code = place.get("country_code")
    return str(code) if code else None


def country_at(lat: float, lon: float) -> str | None:
    """ISO country of the nearest populated place, or None at sea or far from any place.

    The position is rounded to about 100 m first, so the cache serves a car that barely moved.
    """
    return _country_near(round(lat, 3), round(lon, 3))


def warm_up() -> None:
    """Load the GeoNames index before the first question instead of during it (~0.4 s)."""
    country_at(50.85, 4.35)
