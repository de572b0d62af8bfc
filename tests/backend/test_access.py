"""The data-sharing policy, pure: who the caller is, and every role against every resource."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from backend.api.access import (
    CATALOGUE_GRANTS,
    ROLES,
    TIME_BUCKET_S,
    TRAFFIC_SOURCES,
    AssistanceCases,
    Caller,
    Desk,
    DeskDirectory,
    Operations,
    PartnerCases,
    PartnerDirectory,
    PartnerHistory,
    Profile,
    Resource,
    TeleserviceCalls,
    TrafficWarning,
    TrafficWarnings,
    caller_from_claims,
    decide,
    require,
    traffic_warning,
    traffic_warnings,
    visible_desks,
    visible_partners,
)
from backend.api.errors import AccessDeniedError, IdentityError
from backend.emergency.incidents import all_desks
from backend.services.partners import DIRECTORY
from protocols.catalogue import entry
from protocols.msd.jsonform import msd_to_json
from protocols.msd.model import LOCATION_UNKNOWN, VehicleLocation
from tests.backend.support import make_msd

VIN = "WMW21DH0X00000001"
OWN, OTHER = "sp-be-ant", "sp-be-bru"

OPERATOR = Caller("operator")
CALLCENTRE = Caller("callcentre")
PSAP_BE = Caller("psap", "BE")
PARTNER = Caller("partner", OWN)
ASSISTANCE = Caller("assistance")
TRAFFIC = Caller("traffic")
CALLERS = (OPERATOR, CALLCENTRE, PSAP_BE, PARTNER, ASSISTANCE, TRAFFIC)

RESOURCES: dict[str, Resource] = {
    "desk list": DeskDirectory(),
    "callcentre desk": Desk("callcentre"),
    "callcentre msd request": Desk("callcentre", "msd_request"),
    "callcentre close": Desk("callcentre", "close"),
    "own psap desk": Desk("psap-BE"),
    "own psap msd request": Desk("psap-BE", "msd_request"),
    "other psap desk": Desk("psap-NL"),
    "other psap msd request": Desk("psap-NL", "msd_request"),
    "own psap close": Desk("psap-BE", "close"),
    "partner directory": PartnerDirectory(),
    "own partner cases": PartnerCases(OWN),
    "own partner close": PartnerCases(OWN, "close"),
    "other partner cases": PartnerCases(OTHER),
    "other partner close": PartnerCases(OTHER, "close"),
    "profile read": Profile("read"),
    "profile write": Profile("write"),
    "partner history": PartnerHistory(),
    "teleservice assigned": TeleserviceCalls(VIN, frozenset({OWN})),
    "teleservice of another partner": TeleserviceCalls(VIN, frozenset({OTHER})),
    "teleservice unassigned": TeleserviceCalls(VIN),
    "assistance cases": AssistanceCases(),
    "assistance assessment": AssistanceCases("assess"),
    "assistance close": AssistanceCases("close"),
    "traffic warnings": TrafficWarnings(),
    "ota campaigns": Operations("OTA campaigns"),
    "budgets": Operations("budgets"),
}

# What each caller may have; everything else in RESOURCES must be refused.
ALLOWED: dict[Caller, frozenset[str]] = {
    OPERATOR: frozenset(RESOURCES),
    CALLCENTRE: frozenset({"desk list", "callcentre desk", "callcentre msd request",
                           "callcentre close", "profile read"}),
    PSAP_BE: frozenset({"desk list", "own psap desk", "own psap msd request",
                        "own psap close"}),
    PARTNER: frozenset({"partner directory", "own partner cases", "own partner close",
                        "teleservice assigned"}),
    ASSISTANCE: frozenset({"partner directory", "assistance cases", "assistance assessment",
                           "assistance close"}),
    TRAFFIC: frozenset({"traffic warnings"}),
}


@pytest.mark.parametrize("caller", CALLERS, ids=str)
@pytest.mark.parametrize("name", list(RESOURCES))
def test_access_decide_every_role_and_resource(caller: Caller, name: str) -> None:
    """Each role gets exactly its grants; a refusal names the caller and what it may do."""
    decision = decide(caller, RESOURCES[name])
    assert decision.allowed == (name in ALLOWED[caller]), decision.rule
    if not decision.allowed:
        assert decision.rule.startswith(f"{caller} may"), decision.rule


def test_access_require_raises_with_the_rule() -> None:
    """A refused request raises AccessDeniedError carrying the caller and the rule."""
    with pytest.raises(AccessDeniedError) as denied:
        require(PSAP_BE, Desk("psap-NL"))
    assert denied.value.rule == "psap BE may read only desk psap-BE"
    assert denied.value.caller == PSAP_BE
    with pytest.raises(AccessDeniedError, match="callcentre may read only desk callcentre"):
        require(CALLCENTRE, Desk("psap-BE"))
    with pytest.raises(AccessDeniedError, match=f"partner {OWN} may read only the cases of "
                                                f"/partners/{OWN}"):
        require(PARTNER, PartnerCases(OTHER))
    with pytest.raises(AccessDeniedError, match="traffic may not use OTA campaigns: "
                                                "operator only"):
        require(TRAFFIC, Operations("OTA campaigns"))
    assert require(PSAP_BE, Desk("psap-BE", "msd_request")).allowed


def test_access_psap_of_every_country_reads_only_its_desk() -> None:
    """Each PSAP desk of the directory is read by its own country's PSAP alone."""
    for desk in all_desks()[1:]:
        country = desk.removeprefix("psap-")
        readers = [c for c in ("BE", "NL", "INTL", country)
                   if decide(Caller("psap", c), Desk(desk)).allowed]
        assert set(readers) == {country}


def test_access_filtered_lists() -> None:
    """/desks and /partners show a caller only what it works with."""
    desks = all_desks()
    assert visible_desks(OPERATOR, desks) == desks
    assert visible_desks(PSAP_BE, desks) == ["psap-BE"]
    assert visible_desks(Caller("psap", "INTL"), desks) == ["psap-INTL"]
    assert visible_desks(CALLCENTRE, desks) == ["callcentre"]
    assert visible_desks(TRAFFIC, desks) == []
    ids = sorted(DIRECTORY)
    assert visible_partners(OPERATOR, ids) == ids
    assert visible_partners(ASSISTANCE, ids) == ids
    assert visible_partners(PARTNER, ids) == [OWN]
    assert visible_partners(PSAP_BE, ids) == []


@pytest.mark.parametrize(("role", "party", "expected"), [
    ("operator", None, Caller("operator")),
    ("callcentre", "", Caller("callcentre")),
    ("psap", "BE", Caller("psap", "BE")),
    ("psap", "INTL", Caller("psap", "INTL")),
    ("partner", " sp-be-ant ", Caller("partner", "sp-be-ant")),
    ("assistance", None, Caller("assistance")),
    ("traffic", None, Caller("traffic")),
])
def test_access_caller_from_claims(role: str, party: str | None, expected: Caller) -> None:
    """A verified token's claims become a Caller; surrounding blanks are dropped."""
    assert caller_from_claims(role, party) == expected


@pytest.mark.parametrize(("role", "party", "claim", "message"), [
    (None, None, "role", "missing claim role: one of operator, callcentre, psap, "
                           "partner, assistance, traffic"),
    ("  ", None, "role", "missing claim role"),
    ("admin", None, "role", "claim role 'admin' is not a role: one of operator, "
                              "callcentre, psap, partner, assistance, traffic"),
    ("Operator", None, "role", "claim role 'Operator' is not a role"),
    ("psap", None, "party", "missing claim party: role psap needs the PSAP's country "
                              "code, one of BE, LU, NL, "),
    ("psap", "psap-BE", "party", "claim party 'psap-BE': role psap needs the PSAP's "
                                   "country code"),
    ("psap", "XX", "party", "claim party 'XX': role psap needs"),
    ("partner", None, "party", "missing claim party: role partner needs a service "
                                 "partner id of the directory"),
    ("partner", "sp-nope", "party", "claim party 'sp-nope': role partner needs"),
    ("operator", "BE", "party", "claim party must be empty for role operator, got 'BE'"),
    ("traffic", "acme", "party", "claim party must be empty for role traffic"),
])
def test_access_caller_from_claims_refuses(role: str | None, party: str | None, claim: str,
                                            message: str) -> None:
    """A missing or unknown role, or a party that does not fit it, names the claim."""
    with pytest.raises(IdentityError) as refused:
        caller_from_claims(role, party)
    assert refused.value.claim == claim
    assert str(refused.value).startswith(message)


def test_access_grants_are_catalogue_recipients() -> None:
    """Every grant names a recipient that its catalogue row's third_parties list names."""
    for role, grants in CATALOGUE_GRANTS.items():
        assert role in ROLES
        for key, words in grants.items():
            assert any(words in party for party in entry(key).third_parties), (role, key)


def test_access_traffic_sources_come_from_the_catalogue() -> None:
    """Only Intelligent eCall names traffic providers (ecall_intelligent), not HV or assistance."""
    assert frozenset({"ecall_intelligent"}) == TRAFFIC_SOURCES


# --- the traffic feed ---------------------------------------------------------------------

T = 1_767_225_600  # a multiple of five minutes


def _case(**changes: Any) -> dict[str, Any]:
    """A call-centre Intelligent eCall case as ``backend.emergency.incidents`` returns it."""
    msd = make_msd(VIN, lat=50.84671, lon=4.35249, timestamp=T + 437)
    record: dict[str, Any] = {"incident": "inc-secret", "vin": VIN, "status": "open",
                              "psap": "psap-BE", "msd": msd_to_json(msd), "updates": 0,
                              "service": "intelligent_ecall"}
    return record | changes


def _msd(**changes: Any) -> dict[str, Any]:
    msd = make_msd(VIN, lat=50.84671, lon=4.35249, timestamp=T + 437)
    return msd_to_json(dataclasses.replace(msd, **changes))


def test_access_traffic_warning_is_coarse_and_anonymous() -> None:
    """Event, position to 0.01 degree and time to five minutes; nothing else."""
    warning = traffic_warning(_case())
    assert warning == TrafficWarning(event="accident", lat=50.85, lon=4.35, at=T + 300)
    assert {f.name for f in dataclasses.fields(TrafficWarning)} == {"event", "lat", "lon",
                                                                     "at"}
    assert warning.at % TIME_BUCKET_S == 0


def test_access_traffic_warning_manual_call_is_an_emergency() -> None:
    """An SOS button press is not known to be an accident."""
    warning = traffic_warning(_case(msd=_msd(automatic_activation=False)))
    assert warning is not None
    assert warning.event == "emergency"


@pytest.mark.parametrize(("why", "changes"), [
    ("HV warn call: its row names no traffic providers", {"variant": "hv_warn"}),
    ("case no longer open", {"status": "closed"}),
    ("test call", {"msd": _msd(test_call=True)}),
    ("position not trusted", {"msd": _msd(position_can_be_trusted=False)}),
    ("position unknown", {"msd": _msd(location=VehicleLocation(LOCATION_UNKNOWN,
                                                                LOCATION_UNKNOWN))}),
    ("no MSD", {"msd": None}),
    ("malformed MSD", {"msd": {"msdVersion": 3}}),
])
def test_access_traffic_warning_none(why: str, changes: dict[str, Any]) -> None:
    """Cases that must not, or cannot usefully, warn other road users give no warning."""
    assert traffic_warning(_case(**changes)) is None, why


def test_access_traffic_warnings_newest_first() -> None:
    """Newest first, whatever order the cases came in; dropped cases leave no trace."""
    older = _case(msd=_msd(timestamp=T + 10))
    newer = _case(msd=_msd(timestamp=T + 3_000, location=VehicleLocation.from_degrees(
        -0.001, -0.001)))
    warnings = traffic_warnings([older, _case(status="closed"), newer])
    assert [(w.at, w.lat, w.lon) for w in warnings] == [(T + 3_000, 0.0, 0.0),
                                                        (T, 50.85, 4.35)]
    assert str(warnings[0].lat) == "0.0"  # no "-0.0" hinting at the side of the meridian
