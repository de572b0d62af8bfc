"""Service Partner Management: the directory, assignment and preference changes."""

from __future__ import annotations

import msgpack
import pytest

from backend.services.partners import (
    DIRECTORY,
    WORKSHOP_MAP_INTERVAL_S,
    Partner,
    PreferenceBook,
    assign,
    map_update_due,
    partners,
    workshop_map,
)
from protocols.errors import EnvelopeError
from protocols.teleservice import (
    WORKSHOP_MAP_BYTES,
    packed,
    unpack_workshop_map,
    validate_workshop_map,
)

VIN = "WMW21DH0X0T123451"


@pytest.mark.parametrize("country", ["BE", "NL", "LU", "DE", "FR", "SI"])
def test_service_partners_directory_covers_country(country: str) -> None:
    """Every country of the platform has at least two partners, at least one authorised."""
    local = partners(country=country)
    assert len(local) >= 2
    assert any(p.authorised for p in local)


@pytest.mark.parametrize(("country", "lat", "lon", "expected"), [
    ("BE", 51.20, 4.40, "sp-be-ant"),    # Antwerp
    ("BE", 50.63, 5.58, "sp-be-bru"),    # Liège: the independent garage is not assigned
    ("NL", 51.44, 5.47, "sp-nl-ein"),    # Eindhoven
    ("DE", 50.77, 6.08, "sp-de-aac"),    # Aachen
    ("SI", 46.55, 15.64, "sp-si-mar"),   # Maribor
    ("LU", 50.85, 4.35, "sp-lu-lux"),    # a Luxembourg car in Brussels stays in LU
])
def test_service_partners_assign_nearest_authorised_in_country(
        country: str, lat: float, lon: float, expected: str) -> None:
    """Without a preference, the nearest authorised partner of the car's country."""
    assert assign(country, lat, lon).id == expected


def test_service_partners_assign_preferred_wins_when_known() -> None:
    """A known preference wins even abroad; an unknown one is ignored."""
    assert assign("BE", 50.85, 4.35, preferred="sp-si-lju").id == "sp-si-lju"
    assert assign("BE", 50.85, 4.35, preferred="sp-be-lie").id == "sp-be-lie"
    assert assign("BE", 50.85, 4.35, preferred="sp-nope").id == "sp-be-bru"


def test_service_partners_assign_outside_directory_is_nearest_overall() -> None:
    """A country without partners gets the nearest authorised partner anywhere."""
    assert assign("AT", 47.07, 15.44).id == "sp-si-mar"  # Graz


def test_service_partners_assign_falls_back_to_any_partner() -> None:
    """With no authorised partner at all, the nearest partner is still assigned."""
    only = {"x": Partner("x", "Independent", "BE", "Gent", 51.05, 3.72, authorised=False)}
    assert assign("BE", 50.0, 4.0, directory=only).id == "x"
    with pytest.raises(LookupError):
        assign("BE", 50.0, 4.0, directory={})


def test_service_partners_preference_change_is_recorded() -> None:
    """Each change keeps the previous partner, who asked and when; repeats are no-ops."""
    book = PreferenceBook().prefer(VIN, "sp-be-bru", now=1.0, by="assignment")
    book = book.prefer(VIN, "sp-be-ant", now=2.0)
    assert book.prefer(VIN, "sp-be-ant", now=3.0) is book
    book = book.prefer(VIN, "sp-be-lie", now=4.0, by="partner")
    assert book.of(VIN) == "sp-be-lie"
    assert [(c.previous, c.partner_id, c.at, c.by) for c in book.changes_of(VIN)] == [
        (None, "sp-be-bru", 1.0, "assignment"),
        ("sp-be-bru", "sp-be-ant", 2.0, "customer"),
        ("sp-be-ant", "sp-be-lie", 4.0, "partner"),
    ]
    assert book.of("WMW21DH0X0T999999") is None


def test_service_partners_preference_unknown_partner_is_refused() -> None:
    """A preference for a partner outside the directory is refused."""
    with pytest.raises(ValueError, match="unknown service partner 'sp-zz'"):
        PreferenceBook().prefer(VIN, "sp-zz", now=1.0)


def test_service_partners_workshop_map_is_about_200kb() -> None:
    """The map update is 200,000 bytes of data carrying every partner, and fits one envelope."""
    update = workshop_map(3)
    assert len(update.data) == WORKSHOP_MAP_BYTES
    assert update.partner_count == len(DIRECTORY)
    listed = msgpack.Unpacker()
    listed.feed(update.data)
    assert {row[0] for row in next(listed)} == set(DIRECTORY)
    assert unpack_workshop_map(validate_workshop_map(update)) == update


def test_service_partners_workshop_map_framing_is_the_one_the_car_reads() -> None:
    """The update goes down as a plain map of its fields; the envelope's v/k header
    would make the car refuse it, which is why the two framings stay apart."""
    update = workshop_map(1)
    body = msgpack.unpackb(packed(update), raw=False)
    assert set(body) == {"version", "partner_count", "data"}
    with pytest.raises(EnvelopeError, match="unexpected keyword argument 'v'") as refused:
        unpack_workshop_map(msgpack.packb({**body, "v": 1, "k": "workshop_map"},
                                          use_bin_type=True))
    assert refused.value.rule == "contract fields only"


def test_service_partners_map_update_six_times_a_year() -> None:
    """A map update is due at first and then every sixth of a year."""
    assert map_update_due(None, now=0.0)
    assert not map_update_due(0.0, now=WORKSHOP_MAP_INTERVAL_S - 1)
    assert map_update_due(0.0, now=WORKSHOP_MAP_INTERVAL_S)
