"""Which PSAP answers an eCall at a given position.

The responsible PSAP follows from real geography, offline: the country
``protocols.geo.country_at`` names for the position. The rule for a position the directory
does not cover is written here once:

1. a valid position in a directory country → that country's PSAP;
2. otherwise (invalid position, at sea, or a country outside the directory) → the PSAP
   of the mobile network country the call was placed in, when the directory has it —
   this is how a 112 call is routed by the operator in practice;
3. otherwise → the ``INTL`` desk, a catch-all that stands for the operator's default
   112 routing, and the route is flagged ``outside_directory``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from protocols.geo import country_at, warm_up

__all__ = ["DIRECTORY", "EU_ECALL_COUNTRIES", "FALLBACK", "Psap", "PsapChoice", "country_at",
           "desks", "responsible_psap", "warm_up"]


@dataclass(frozen=True, slots=True)
class Psap:
    """One public safety answering point; ``desk`` names its stream and API desk."""

    country: str
    name: str

    @property
    def desk(self) -> str:
        return f"psap-{self.country}"


DIRECTORY: Final[dict[str, Psap]] = {
    psap.country: psap
    for psap in (
        Psap("BE", "112 Belgium (HC112 / CS112)"),
        Psap("LU", "CGDIS Central 112 Luxembourg"),
        Psap("NL", "Meldkamer 112 Driebergen"),
        Psap("DE", "Integrierte Leitstelle (112)"),
        Psap("FR", "CTA-CODIS / SAMU 15-112"),
        Psap("SI", "ReCO / Center za obveščanje 112"),
        Psap("AT", "Landeswarnzentrale 112 Austria"),
        Psap("IT", "NUE 112 Italia"),
        Psap("ES", "Centro 112 Spain"),
        Psap("HR", "Centar 112 Croatia"),
        Psap("CH", "Notrufzentrale 112 Switzerland"),
        Psap("PL", "CPR 112 Poland"),
        Psap("CZ", "TCTV 112 Czechia"),
        Psap("DK", "Alarm 112 Denmark"),
    )
}
FALLBACK: Final = Psap("INTL", "Default 112 routing of the mobile network operator")
EU_ECALL_COUNTRIES: Final = frozenset(DIRECTORY)


@dataclass(frozen=True, slots=True)
class PsapChoice:
    psap: Psap
    reason: str  # "position" | "network_country" | "outside_directory"


def responsible_psap(
    lat: float | None, lon: float | None, *, network_country: str = ""
) -> PsapChoice:
    """Apply the directory rule of this module; ``lat``/``lon`` None means unknown."""
    if lat is not None and lon is not None:
        country = country_at(lat, lon)
        if country in DIRECTORY:
            return PsapChoice(DIRECTORY[country], "position")
    network = network_country.upper()
    if network in DIRECTORY:
        return PsapChoice(DIRECTORY[network], "network_country")
    return PsapChoice(FALLBACK, "outside_directory")


def desks() -> list[str]:
    return [psap.desk for psap in (*DIRECTORY.values(), FALLBACK)]
