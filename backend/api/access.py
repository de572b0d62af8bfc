"""Who may read what: the data-sharing rules of the API, by the caller's role.

Each party sees only what the documents let it receive: PLAT-R3 of docs/requirements.md
(docs/requirements.md#plat-r3), the recipients of each catalogue row (anchored there by its
key, e.g. ``#ecall_intelligent``) and the service rules they come from. The API learns the
caller from two claims of its bearer token, ``role`` and ``party``, once
``backend.api.tokens`` has checked the token's signature, issuer, audience and times;
no request header is trusted on its own. This module is pure: it parses the claims into a
``Caller``, decides a request with ``decide`` / ``require``, filters lists, and builds
the anonymised traffic warnings. The routes look up the facts a rule needs (which
partners a car is assigned to) and pass them in.

``party`` names the party within its role: the PSAP's country code as in the PSAP
directory (``BE``, ``NL``, ..., ``INTL``; the desk is ``psap-{country}``), or the
service partner's id (``sp-be-ant``). It is empty for every other role.

Role by role (requirement ids and catalogue row keys of docs/requirements.md)::

    operator     everything: the OEM's own operations staff (also the app backend,
                 CRM imports, OTA, budgets, retention); the data controller
    callcentre   desk ``callcentre`` (Intelligent eCall and HV warn cases) and MSD
                 update requests there; vehicle profiles (the customer record the HV
                 handover adds)
                 rules: hv_warn_call, ecall_intelligent; HV-R3; ECALL-R8
    psap CC      desk ``psap-CC`` only: the MSD of Legal eCall and what the call
                 centre hands over; MSD update requests there
                 rules: hv_warn_call, ecall_legal; HV-R2; ECALL-R5
    partner P    the cases under ``/partners/P`` (read, close); its own directory
                 entry; the Teleservice calls of cars assigned to P (P is their
                 preferred partner, or they have a case at P)
                 rules: teleservice_call, smart_maintenance, remote_key_read,
                 service_partner_management; TS-R4; SP-R1
    assistance   assistance cases (read, assess); the partner directory (the
                 specialist may contact the preferred centre)
                 rules: roadside_assistance, accident_assistance; AS-R6
    traffic      ``GET /traffic/warnings`` only: anonymised location and warnings
                 rules: ecall_intelligent; ECALL-R8

Everything not granted above is refused (403), naming the role and the rule. Where a
list is natural (``/desks``, ``/partners``) it is filtered to what the caller may see.

Readings the project chose:

* The PSAP receives Intelligent eCall incidents only through the call centre's handover:
  the ``ecall_intelligent`` row names the call centre as recipient and the agent "organises
  help" (ECALL-R6), which ``backend.emergency.desks`` does by handing the incident to the
  responsible PSAP. The PSAP database is the authority's; no OEM role but the operator
  reads it, and the PSAP reads nothing of the OEM's.
* Traffic providers get warnings only from services whose catalogue row names them: today
  Intelligent eCall alone ("anonymised location/warnings to external traffic
  providers", ECALL-R8). The HV Warn Call (``hv_warn_call``) and the assistance calls
  (``roadside_assistance``, ``accident_assistance``) do not name traffic providers, so
  none of their data goes into the feed;
  ``TRAFFIC_SOURCES`` is computed from the catalogue, so the feed can never take a
  service whose row does not name traffic providers.
* Teleservice data goes to the "preferred service centre (selected or assigned)"
  (TS-R4); a car with a case at a partner was assigned to it for that need.
  A partner gets no vehicle profile: the case carries what the visit needs (SP-R3:
  "only what is strictly needed").
* Teleservice history stays with the operator even though the ``teleservice_call`` row
  also names the Customer Interaction Center and Roadside Assistance: those receive a
  specific need when it is routed to them (MINI Connected §16a), which reaches them as a
  case, not the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from backend.api.errors import AccessDeniedError, IdentityError
from backend.emergency.psap_directory import DIRECTORY as PSAP_DIRECTORY
from backend.emergency.psap_directory import FALLBACK as PSAP_FALLBACK
from backend.emergency.relay import CALLCENTRE_DESK
from backend.services.partners import DIRECTORY as PARTNER_DIRECTORY
from protocols.catalogue import entry
from protocols.catalogue import keys as catalogue_keys
from protocols.errors import ProtocolError
from protocols.msd.jsonform import msd_from_json
from protocols.msd.model import LOCATION_UNKNOWN

Role = Literal["operator", "callcentre", "psap", "partner", "assistance", "traffic"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
ROLE_CLAIM: Final = "role"
PARTY_CLAIM: Final = "party"
PSAP_COUNTRIES: Final[tuple[str, ...]] = (*PSAP_DIRECTORY, PSAP_FALLBACK.country)
_PARTY_ROLES: Final = frozenset({"psap", "partner"})

# The recipients each role stands for, as the catalogue's ``third_parties`` column words them:
# role -> catalogue key -> the words of that row naming the role. The tests check each
# pair against ``protocols.catalogue``, so a grant without a catalogue line cannot creep in.
CATALOGUE_GRANTS: Final[dict[Role, dict[str, str]]] = {
    "callcentre": {"ecall_intelligent": "BMW call centre",
                   "hv_warn_call": "BMW Call Center staff"},
    "psap": {"ecall_legal": "112 PSAP", "hv_warn_call": "nearest local PSAP"},
    "partner": {"teleservice_call": "preferred service centre",
                "smart_maintenance": "preferred service centre",
                "service_partner_management": "preferred service centre",
                "remote_key_read": "service partner"},
    "assistance": {"roadside_assistance": "MINI Roadside Assistance",
                   "accident_assistance": "MINI Accident Assistance"},
    "traffic": {"ecall_intelligent": "external traffic providers"},
}
TRAFFIC_RECIPIENT: Final = "traffic providers"
# Services whose data may feed the traffic warnings: their catalogue row names traffic providers.
TRAFFIC_SOURCES: Final[frozenset[str]] = frozenset(
    key for key in catalogue_keys()
    if any(TRAFFIC_RECIPIENT in party for party in entry(key).third_parties))
# Coarse enough not to single out a car or a person, fine enough to warn road users.
POSITION_DECIMALS: Final = 2  # 0.01 degree, about 1.1 km of latitude
TIME_BUCKET_S: Final = 300  # five minutes


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a role, and for ``psap`` / ``partner`` the party within it."""

    role: Role
    party: str = ""

    def __str__(self) -> str:
        return f"{self.role} {self.party}" if self.party else self.role

    @property
    def psap_desk(self) -> str:
        """The one desk a PSAP reads: ``psap-{country}``."""
        return f"psap-{self.party}"


def caller_from_claims(role: object, party: object) -> Caller:
    """The caller a verified token names; anything incomplete or unknown is refused."""
    allowed = ", ".join(ROLES)
    name = role.strip() if isinstance(role, str) else ""
    who = party.strip() if isinstance(party, str) else ""
    if not name:
        raise IdentityError(f"missing claim {ROLE_CLAIM}: one of {allowed}", claim=ROLE_CLAIM)
    if name not in ROLES:
        raise IdentityError(f"claim {ROLE_CLAIM} {name!r} is not a role: one of {allowed}",
                            claim=ROLE_CLAIM)
    checked: Role = next(r for r in ROLES if r == name)
    given = f"claim {PARTY_CLAIM} {who!r}" if who else f"missing claim {PARTY_CLAIM}"
    if checked == "psap" and who not in PSAP_COUNTRIES:
        raise IdentityError(
            f"{given}: role psap needs the PSAP's country code, one of "
            f"{', '.join(PSAP_COUNTRIES)}", claim=PARTY_CLAIM)
    if checked == "partner" and who not in PARTNER_DIRECTORY:
        raise IdentityError(
            f"{given}: role partner needs a service partner id of the directory "
            "(e.g. sp-be-ant)", claim=PARTY_CLAIM)
    if checked not in _PARTY_ROLES and who:
        raise IdentityError(f"claim {PARTY_CLAIM} must be empty for role {checked}, "
                            f"got {who!r}", claim=PARTY_CLAIM)
    return Caller(checked, who)


# --- What can be asked for -------------------------------------------------------------

DeskAction = Literal["read", "msd_request", "close"]


@dataclass(frozen=True, slots=True)
class DeskDirectory:
    """``GET /desks``: which desks exist (filtered by ``visible_desks``)."""


@dataclass(frozen=True, slots=True)
class Desk:
    """One desk's incidents: list, detail, an MSD update request, or closing a case."""

    name: str
    action: DeskAction = "read"


@dataclass(frozen=True, slots=True)
class PartnerDirectory:
    """``GET /partners``: the service partners (filtered by ``visible_partners``)."""


@dataclass(frozen=True, slots=True)
class PartnerCases:
    """One partner's maintenance cases: list, detail, or closing one."""

    partner_id: str
    action: Literal["read", "close"] = "read"


@dataclass(frozen=True, slots=True)
class Profile:
    """A vehicle's customer record: read it, or write it as a CRM import does."""

    action: Literal["read", "write"] = "read"


@dataclass(frozen=True, slots=True)
class PartnerHistory:
    """Every change of a vehicle's preferred service partner."""


@dataclass(frozen=True, slots=True)
class TeleserviceCalls:
    """A vehicle's Teleservice calls; ``assigned_to`` holds the partners it is assigned to
    (its preferred partner, and the asking partner if the vehicle has a case there)."""

    vin: str
    assigned_to: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AssistanceCases:
    """Roadside and accident assistance cases: read them, decide one again, or close one."""

    action: Literal["read", "assess", "close"] = "read"


@dataclass(frozen=True, slots=True)
class TrafficWarnings:
    """The anonymised warnings for traffic providers."""


@dataclass(frozen=True, slots=True)
class Operations:
    """The OEM's own operations (OTA campaigns, budgets, retention): operator only."""

    what: str


Resource = (DeskDirectory | Desk | PartnerDirectory | PartnerCases | Profile | PartnerHistory
            | TeleserviceCalls | AssistanceCases | TrafficWarnings | Operations)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the caller may, and the rule that says so (a 403's message and rule)."""

    allowed: bool
    rule: str


def _allow(rule: str) -> Decision:
    return Decision(True, rule)


def _deny(rule: str) -> Decision:
    return Decision(False, rule)


def _desk(caller: Caller, desk: Desk) -> Decision:
    verb = {"read": "read", "msd_request": "request MSD updates at",
            "close": "close cases at"}[desk.action]
    if caller.role == "psap":
        if desk.name == caller.psap_desk:
            return _allow(f"psap {caller.party} reads its own desk {caller.psap_desk}: the MSD "
                          "and the call centre's handover (ECALL-R5; HV-R2)")
        return _deny(f"psap {caller.party} may {verb} only desk {caller.psap_desk}")
    if caller.role == "callcentre":
        if desk.name == CALLCENTRE_DESK:
            return _allow("callcentre reads its own desk: Intelligent eCall and HV warn cases "
                          "(PLAT-R3: hv_warn_call, ecall_intelligent)")
        return _deny(f"callcentre may {verb} only desk {CALLCENTRE_DESK}; a PSAP desk is "
                     "the authority's")
    return _deny(f"{caller} may {verb} no eCall desk: the eCall data goes to the call centre "
                 "and the PSAP only (PLAT-R3: hv_warn_call, ecall_intelligent, ecall_legal)")


def _partner_cases(caller: Caller, cases: PartnerCases) -> Decision:
    if caller.role == "partner":
        if cases.partner_id == caller.party:
            return _allow(f"partner {caller.party} handles its own cases (TS-R4)")
        return _deny(f"partner {caller.party} may {cases.action} only the cases of "
                     f"/partners/{caller.party}")
    return _deny(f"{caller} may not {cases.action} service-partner cases: maintenance needs "
                 "go to the preferred service centre "
                 "(PLAT-R3: teleservice_call, smart_maintenance)")


def _teleservice(caller: Caller, calls: TeleserviceCalls) -> Decision:
    if caller.role == "partner":
        if caller.party in calls.assigned_to:
            return _allow(f"partner {caller.party} is the service centre assigned to "
                          f"{calls.vin} (TS-R4)")
        return _deny(f"partner {caller.party} may read Teleservice calls only of vehicles "
                     "assigned to it (its preferred partner, or a case at it)")
    return _deny(f"{caller} may not read Teleservice calls: they go to the vehicle's "
                 "preferred service centre (TS-R4)")


def decide(caller: Caller, resource: Resource) -> Decision:
    """Whether ``caller`` may have ``resource``, by the table in the module docstring."""
    if caller.role == "operator":
        return _allow("operator: the OEM's own operations staff read everything")
    match resource:
        case DeskDirectory():
            if caller.role in ("psap", "callcentre"):
                return _allow(f"{caller} sees the desks it works at")
            return _deny(f"{caller} may read no eCall desk "
                         "(PLAT-R3: hv_warn_call, ecall_intelligent, ecall_legal)")
        case Desk():
            return _desk(caller, resource)
        case PartnerDirectory():
            if caller.role in ("partner", "assistance"):
                return _allow(f"{caller} sees the service partners it works with (AS-R6)")
            return _deny(f"{caller} may not read the service-partner directory")
        case PartnerCases():
            return _partner_cases(caller, resource)
        case Profile(action="read") if caller.role == "callcentre":
            return _allow("callcentre reads the customer record it adds to an HV warn "
                          "handover (HV-R3)")
        case Profile():
            return _deny(f"{caller} may not {resource.action} vehicle profiles: the customer "
                         "record stays with the OEM (only the call centre reads it, §2b)")
        case PartnerHistory():
            return _deny(f"{caller} may not read the preferred-partner history: it is the "
                         "OEM's Service Partner Management record (§16d)")
        case TeleserviceCalls():
            return _teleservice(caller, resource)
        case AssistanceCases():
            if caller.role == "assistance":
                return _allow("assistance handles roadside and accident assistance cases "
                              "(PLAT-R3: roadside_assistance, accident_assistance)")
            return _deny(f"{caller} may not {resource.action} assistance cases: they go to "
                         "MINI Roadside / Accident Assistance "
                         "(PLAT-R3: roadside_assistance, accident_assistance)")
        case TrafficWarnings():
            if caller.role == "traffic":
                return _allow("traffic providers get anonymised location and warnings "
                              "(ECALL-R8)")
            return _deny(f"{caller} may not read the traffic warnings")
        case Operations():
            return _deny(f"{caller} may not use {resource.what}: operator only")
    raise AssertionError(f"no rule for {resource!r}")  # pragma: no cover - match is exhaustive


def require(caller: Caller, resource: Resource) -> Decision:
    """The allowing decision, or ``AccessDeniedError`` naming the role and the rule."""
    decision = decide(caller, resource)
    if not decision.allowed:
        raise AccessDeniedError(caller, decision.rule)
    return decision


def visible_desks(caller: Caller, desks: list[str]) -> list[str]:
    """The desks of ``desks`` the caller may read, in their order."""
    return [d for d in desks if decide(caller, Desk(d)).allowed]


def visible_partners(caller: Caller, partner_ids: list[str]) -> list[str]:
    """The directory entries the caller is shown: a partner sees only its own."""
    if caller.role == "partner":
        return [p for p in partner_ids if p == caller.party]
    return list(partner_ids) if decide(caller, PartnerDirectory()).allowed else []


# --- The traffic feed -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrafficWarning:
    """One anonymised warning: what happened, roughly where and roughly when. No VIN, no
    incident or case id, no MSD, no occupants, no direction."""

    event: Literal["accident", "emergency"]
    lat: float
    lon: float
    at: int  # epoch seconds, floored to TIME_BUCKET_S


def callcentre_service(record: dict[str, Any]) -> str:
    """The catalogue key of a call-centre case: an HV warn call or an Intelligent eCall."""
    return "hv_warn_call" if record.get("variant") == "hv_warn" else "ecall_intelligent"


def coarse_position(lat: float, lon: float) -> tuple[float, float]:
    return round(lat, POSITION_DECIMALS) + 0.0, round(lon, POSITION_DECIMALS) + 0.0


def coarse_time(epoch_s: float) -> int:
    return math.floor(epoch_s / TIME_BUCKET_S) * TIME_BUCKET_S


def traffic_warning(record: dict[str, Any]) -> TrafficWarning | None:
    """The warning a call-centre case gives traffic providers, or None if it gives none.

    None when the service's catalogue row does not name traffic providers, the case is no
    longer open ("current location and warnings", ECALL-R8), the MSD is a test call,
    or its position is unknown or not trusted (a warning at a wrong place misleads).
    """
    if callcentre_service(record) not in TRAFFIC_SOURCES or record.get("status") != "open":
        return None
    try:
        msd = msd_from_json(record.get("msd") or {})
    except (ProtocolError, TypeError, KeyError, AttributeError):
        return None
    location = msd.location
    if (msd.test_call or not msd.position_can_be_trusted
            or LOCATION_UNKNOWN in (location.latitude, location.longitude)):
        return None
    lat, lon = coarse_position(location.latitude_deg, location.longitude_deg)
    return TrafficWarning(event="accident" if msd.automatic_activation else "emergency",
                          lat=lat, lon=lon, at=coarse_time(msd.timestamp))


def traffic_warnings(records: list[dict[str, Any]]) -> list[TrafficWarning]:
    """The warnings of ``records``, newest first; the order says nothing of the cases'."""
    found = [w for w in map(traffic_warning, records) if w is not None]
    return sorted(found, key=lambda w: (-w.at, w.event, w.lat, w.lon))
