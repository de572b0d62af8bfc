"""Identities and places of the benchmark's simulated vehicles.

Every run gets a short token of its own so its VINs, incidents and client ids never
collide with an earlier run's records in a Redis or broker that outlives the run.
"""

from __future__ import annotations

import secrets
from typing import Final

VIN_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
TOKEN_CHARS: Final = 5
# A spot in each country the eCall stream covers, well inside its borders, so the
# responsible PSAP follows from the position (the capital, or Luxembourg's centre).
COUNTRY_SPOTS: Final[dict[str, tuple[float, float]]] = {
    "BE": (50.85, 4.35),
    "NL": (52.37, 4.90),
    "DE": (52.52, 13.40),
    "FR": (48.86, 2.35),
    "LU": (49.61, 6.13),
    "SI": (46.06, 14.51),
}


def run_token() -> str:
    """Five random VIN characters naming one run."""
    return "".join(secrets.choice(VIN_ALPHABET) for _ in range(TOKEN_CHARS))


def vin_of(prefix: str, token: str, index: int) -> str:
    """A valid, distinct 17-character VIN: 3-char prefix, run token, 9-digit base-33 index."""
    if len(prefix) != 3 or len(token) != TOKEN_CHARS:
        raise ValueError("prefix has 3 characters and token 5")
    if not set(prefix + token) <= set(VIN_ALPHABET):
        raise ValueError(f"{prefix + token!r} has characters outside the VIN alphabet")
    digits = []
    n = index
    for _ in range(9):
        n, d = divmod(n, len(VIN_ALPHABET))
        digits.append(VIN_ALPHABET[d])
    if n:
        raise ValueError(f"index {index} does not fit in 9 VIN characters")
    return prefix + token + "".join(reversed(digits))


def spot_near(country: str, index: int, *, spread_deg: float = 0.05) -> tuple[float, float]:
    """A position within ``spread_deg`` of the country's spot, distinct per index."""
    lat, lon = COUNTRY_SPOTS[country]
    step = spread_deg / 50
    return (round(lat + ((index * 37) % 101 - 50) * step, 6),
            round(lon + ((index * 53) % 101 - 50) * step, 6))
