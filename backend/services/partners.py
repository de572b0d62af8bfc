"""Service Partner Management (MINI Connected §16d, SP-R1): the partner directory and assignment.

A maintenance need goes to the customer's "preferred service centre (selected or
assigned)" (docs/requirements.md#ts-r4). §16d (SP-R1) says a centre is
assigned at first and the customer may change it any time; the rule written here:

1. the preferred partner, when the customer set one and the directory knows it;
2. else the nearest authorised partner in the vehicle's country;
3. else the nearest authorised partner anywhere, else the nearest partner at all.

The directory also feeds the workshop map data sent down to cars about six times a
year, ≈ 200 KB each (SP-R2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final

import msgpack

from protocols.geo import km_between
from protocols.teleservice import WORKSHOP_MAP_BYTES, WORKSHOP_MAP_PER_YEAR, WorkshopMapUpdate

YEAR_S: Final = 365.25 * 86_400
WORKSHOP_MAP_INTERVAL_S: Final = YEAR_S / WORKSHOP_MAP_PER_YEAR  # "about six times a year"


@dataclass(frozen=True, slots=True)
class Partner:
    """One service partner; ``authorised`` partners are the OEM's own network (§16d).

    Independent providers (§16j, SP-R4) may be preferred; they are assigned
    only when no authorised partner exists at all.
    """

    id: str
    name: str
    country: str
    city: str
    lat: float
    lon: float
    authorised: bool = True


DIRECTORY: Final[Mapping[str, Partner]] = {
    p.id: p
    for p in (
        Partner("sp-be-bru", "MINI Brussels Centre", "BE", "Brussels", 50.8467, 4.3525),
        Partner("sp-be-ant", "MINI Antwerpen Noord", "BE", "Antwerp", 51.2194, 4.4025),
        Partner("sp-be-lie", "Garage Meuse Indépendant", "BE", "Liège", 50.6326, 5.5797,
                authorised=False),
        Partner("sp-nl-ams", "MINI Amsterdam Zuid", "NL", "Amsterdam", 52.3676, 4.9041),
        Partner("sp-nl-ein", "MINI Eindhoven", "NL", "Eindhoven", 51.4416, 5.4697),
        Partner("sp-lu-lux", "MINI Luxembourg Gasperich", "LU", "Luxembourg", 49.6116, 6.1319),
        Partner("sp-lu-esc", "MINI Esch-sur-Alzette", "LU", "Esch-sur-Alzette", 49.4958,
                5.9806),
        Partner("sp-de-muc", "MINI München Frankfurter Ring", "DE", "Munich", 48.1372,
                11.5756),
        Partner("sp-de-aac", "MINI Aachen", "DE", "Aachen", 50.7753, 6.0839),
        Partner("sp-de-ber", "MINI Berlin Kurfürstendamm", "DE", "Berlin", 52.5200, 13.4050),
        Partner("sp-fr-par", "MINI Paris Grande Armée", "FR", "Paris", 48.8566, 2.3522),
        Partner("sp-fr-lyo", "MINI Lyon Part-Dieu", "FR", "Lyon", 45.7640, 4.8357),
        Partner("sp-si-lju", "MINI Ljubljana", "SI", "Ljubljana", 46.0569, 14.5058),
        Partner("sp-si-mar", "MINI Maribor", "SI", "Maribor", 46.5547, 15.6459),
    )
}


def _nearest(partners: Iterable[Partner], lat: float, lon: float) -> Partner | None:
    ranked = sorted(partners, key=lambda p: (km_between(lat, lon, p.lat, p.lon), p.id))
    return ranked[0] if ranked else None


def assign(vin_country: str, lat: float, lon: float, *, preferred: str | None = None,
           directory: Mapping[str, Partner] = DIRECTORY) -> Partner:
    """The partner a maintenance need goes to, by the rule in the module docstring."""
    if preferred is not None and preferred in directory:
        return directory[preferred]
    country = vin_country.upper()
    authorised = [p for p in directory.values() if p.authorised]
    for pool in ([p for p in authorised if p.country == country], authorised,
                 list(directory.values())):
        chosen = _nearest(pool, lat, lon)
        if chosen is not None:
            return chosen
    raise LookupError("the service partner directory is empty")


def partners(*, country: str | None = None,
             directory: Mapping[str, Partner] = DIRECTORY) -> list[Partner]:
    """The directory, optionally one country's part, in id order."""
    wanted = country.upper() if country else None
    return sorted((p for p in directory.values() if wanted in (None, p.country)),
                  key=lambda p: p.id)


@dataclass(frozen=True, slots=True)
class PreferenceChange:
    """One change of preference: who asked matters, the centre may change it too (SP-R1)."""

    vin: str
    partner_id: str
    previous: str | None
    at: float
    by: str


@dataclass(frozen=True, slots=True)
class PreferenceBook:
    """Preferred partner per VIN, with every change kept in ``history``.

    §16d assigns at first and then lets the customer or the centre change it (lines
    651-652); the history shows who moved a vehicle and when.
    """

    preferred: Mapping[str, str] = field(default_factory=dict)
    history: tuple[PreferenceChange, ...] = ()

    def of(self, vin: str) -> str | None:
        return self.preferred.get(vin)

    def prefer(self, vin: str, partner_id: str, *, now: float, by: str = "customer",
            directory: Mapping[str, Partner] = DIRECTORY) -> PreferenceBook:
        """A new book with ``vin`` preferring ``partner_id``; unknown partners are refused."""
        if partner_id not in directory:
            raise ValueError(f"unknown service partner {partner_id!r}")
        previous = self.preferred.get(vin)
        if previous == partner_id:
            return self
        change = PreferenceChange(vin, partner_id, previous, now, by)
        return replace(self, preferred={**self.preferred, vin: partner_id},
                       history=(*self.history, change))

    def changes_of(self, vin: str) -> list[PreferenceChange]:
        return [c for c in self.history if c.vin == vin]


def map_update_due(last_sent_at: float | None, *, now: float) -> bool:
    """Whether the next workshop map update is due ("about six times a year", SP-R2)."""
    return last_sent_at is None or now - last_sent_at >= WORKSHOP_MAP_INTERVAL_S


def workshop_map(version: int, *, directory: Mapping[str, Partner] = DIRECTORY,
                 size: int = WORKSHOP_MAP_BYTES) -> WorkshopMapUpdate:
    """The map update for cars: the directory's locations, filled to the catalogue's size.

    Real map tiles are not part of this platform; the payload carries every partner's
    position and is filled up to ≈ 200 KB (SP-R2) so the data-volume budget sees the
    figure the catalogue states.

    ``data`` is a msgpack list of ``[id, lat, lon, authorised]`` rows, then zero bytes.
    It is the content of the update, not a framing: the update itself is framed by
    ``protocols.teleservice.packed``, a plain map of its three fields, which is what the
    car's ``unpack_workshop_map`` reads and, refusing fields it does not know, the only
    form it reads. ``protocols.envelope.pack`` would add its ``v``/``k`` header, which
    that reader refuses, and takes only the eCall envelopes; so the two stay apart.
    """
    body: bytes = msgpack.packb(
        [[p.id, p.lat, p.lon, p.authorised] for p in partners(directory=directory)],
        use_bin_type=True)
    if len(body) > size:
        raise ValueError(f"directory needs {len(body)} bytes, more than {size}")
    return WorkshopMapUpdate(version, len(directory), body + bytes(size - len(body)))
