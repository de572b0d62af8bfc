"""Real towns in the PSAP directory's countries: homes, trip origins and destinations.

Emulated fleets live where the backend has a PSAP to route to, so every eCall a
scenario provokes on the road lands on a real desk. The table is small on purpose:
enough towns per country that trips have somewhere plausible to go (with neighbours
within commuting distance in BE, LU, NL, DE, FR and SI), few enough to read.
Positions are town centres in WGS 84 degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from protocols.geo import EARTH_RADIUS_KM


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country: str
    lat: float
    lon: float


PLACES: Final[tuple[Place, ...]] = (
    # Belgium
    Place("Brussels", "BE", 50.8467, 4.3525),
    Place("Antwerp", "BE", 51.2194, 4.4025),
    Place("Ghent", "BE", 51.0543, 3.7174),
    Place("Liège", "BE", 50.6326, 5.5797),
    Place("Leuven", "BE", 50.8798, 4.7005),
    Place("Bruges", "BE", 51.2093, 3.2247),
    Place("Namur", "BE", 50.4674, 4.8720),
    Place("Charleroi", "BE", 50.4108, 4.4446),
    Place("Mechelen", "BE", 51.0259, 4.4776),
    # Luxembourg
    Place("Luxembourg", "LU", 49.6116, 6.1319),
    Place("Esch-sur-Alzette", "LU", 49.4958, 5.9806),
    Place("Differdange", "LU", 49.5242, 5.8914),
    Place("Dudelange", "LU", 49.4806, 6.0875),
    Place("Ettelbruck", "LU", 49.8475, 6.1042),
    # Netherlands
    Place("Amsterdam", "NL", 52.3676, 4.9041),
    Place("Rotterdam", "NL", 51.9244, 4.4777),
    Place("The Hague", "NL", 52.0705, 4.3007),
    Place("Utrecht", "NL", 52.0907, 5.1214),
    Place("Eindhoven", "NL", 51.4416, 5.4697),
    Place("Maastricht", "NL", 50.8514, 5.6910),
    Place("Groningen", "NL", 53.2194, 6.5665),
    Place("Breda", "NL", 51.5719, 4.7683),
    # Germany
    Place("Berlin", "DE", 52.5200, 13.4050),
    Place("Hamburg", "DE", 53.5511, 9.9937),
    Place("Munich", "DE", 48.1351, 11.5820),
    Place("Cologne", "DE", 50.9375, 6.9603),
    Place("Frankfurt am Main", "DE", 50.1109, 8.6821),
    Place("Stuttgart", "DE", 48.7758, 9.1829),
    Place("Düsseldorf", "DE", 51.2277, 6.7735),
    Place("Aachen", "DE", 50.7753, 6.0839),
    Place("Trier", "DE", 49.7499, 6.6371),
    Place("Saarbrücken", "DE", 49.2402, 6.9969),
    # France
    Place("Paris", "FR", 48.8566, 2.3522),
    Place("Lille", "FR", 50.6292, 3.0573),
    Place("Lyon", "FR", 45.7640, 4.8357),
    Place("Strasbourg", "FR", 48.5734, 7.7521),
    Place("Metz", "FR", 49.1193, 6.1757),
    Place("Nancy", "FR", 48.6921, 6.1844),
    Place("Reims", "FR", 49.2583, 4.0317),
    Place("Marseille", "FR", 43.2965, 5.3698),
    Place("Bordeaux", "FR", 44.8378, -0.5792),
    # Slovenia
    Place("Ljubljana", "SI", 46.0569, 14.5058),
    Place("Maribor", "SI", 46.5547, 15.6459),
    Place("Celje", "SI", 46.2397, 15.2677),
    Place("Kranj", "SI", 46.2389, 14.3556),
    Place("Koper", "SI", 45.5481, 13.7302),
    Place("Novo Mesto", "SI", 45.8040, 15.1689),
    # Austria
    Place("Vienna", "AT", 48.2082, 16.3738),
    Place("Graz", "AT", 47.0707, 15.4395),
    Place("Salzburg", "AT", 47.8095, 13.0550),
    Place("Innsbruck", "AT", 47.2692, 11.4041),
    Place("Klagenfurt", "AT", 46.6247, 14.3053),
    # Italy
    Place("Milan", "IT", 45.4642, 9.1900),
    Place("Turin", "IT", 45.0703, 7.6869),
    Place("Trieste", "IT", 45.6495, 13.7768),
    Place("Venice", "IT", 45.4408, 12.3155),
    Place("Rome", "IT", 41.9028, 12.4964),
    # Spain
    Place("Madrid", "ES", 40.4168, -3.7038),
    Place("Barcelona", "ES", 41.3874, 2.1686),
    Place("Zaragoza", "ES", 41.6488, -0.8891),
    # Croatia
    Place("Zagreb", "HR", 45.8150, 15.9819),
    Place("Rijeka", "HR", 45.3271, 14.4422),
    Place("Split", "HR", 43.5081, 16.4402),
    # Switzerland
    Place("Zurich", "CH", 47.3769, 8.5417),
    Place("Geneva", "CH", 46.2044, 6.1432),
    Place("Basel", "CH", 47.5596, 7.5886),
    Place("Bern", "CH", 46.9480, 7.4474),
    # Poland
    Place("Warsaw", "PL", 52.2297, 21.0122),
    Place("Kraków", "PL", 50.0647, 19.9450),
    Place("Wrocław", "PL", 51.1079, 17.0385),
    Place("Poznań", "PL", 52.4064, 16.9252),
    # Czechia
    Place("Prague", "CZ", 50.0755, 14.4378),
    Place("Brno", "CZ", 49.1951, 16.6068),
    Place("Plzeň", "CZ", 49.7384, 13.3736),
    # Denmark
    Place("Copenhagen", "DK", 55.6761, 12.5683),
    Place("Aarhus", "DK", 56.1629, 10.2039),
    Place("Odense", "DK", 55.4038, 10.4024),
)

PLACE_INDEX: Final[dict[str, int]] = {place.name: i for i, place in enumerate(PLACES)}
PLACE_LAT: Final[npt.NDArray[np.float64]] = np.array([p.lat for p in PLACES])
PLACE_LON: Final[npt.NDArray[np.float64]] = np.array([p.lon for p in PLACES])


def place_index(name: str) -> int:
    """Index of the town called ``name``; a ValueError lists what exists."""
    try:
        return PLACE_INDEX[name]
    except KeyError:
        raise ValueError(f"unknown place {name!r}; known: {', '.join(PLACE_INDEX)}") from None


def places_in(country: str) -> tuple[Place, ...]:
    return tuple(p for p in PLACES if p.country == country)


def great_circle_km(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike,
                    lon2: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Haversine distance, element-wise, so a whole fleet is measured in one call."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.subtract(lon2, lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))),
                      dtype=np.float64)


def distance_matrix_km() -> npt.NDArray[np.float64]:
    """Straight-line distances between every pair of places."""
    return great_circle_km(PLACE_LAT[:, None], PLACE_LON[:, None],
                           PLACE_LAT[None, :], PLACE_LON[None, :])
