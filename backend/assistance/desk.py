"""The assistance desk: one case per Roadside or Accident Assistance Call.

MINI Connected §16e/§16f (docs/requirements.md#as-r1, #as-r2): the car sends its status,
position (and, after an aborted RSU, movement, §15) to MINI Roadside or Accident Assistance,
whose specialist organises help. ``decide_case`` opens the case from the call, applies the
customer's programme (``backend.assistance.entitlements``) and keeps the decision and its reasons in
the case.

Which service a call belongs to decides its retention: a light accident is the Accident
Assistance Call (§16f); a breakdown, a failed update (§15 "Roadside Assistance Call")
and a manual start (§16e "altijd handmatig starten") are the Roadside Assistance Call.
Both keep data "until the need is determined and communicated and all procedures are
completed" (the catalogue's ``until_closed``), so the case, tagged under its service,
has no deletion date until ``close_case`` sets one.

The desk never holds data the car should not have sent: a call from app or phone
without confirmation in the car is refused (``validate_assistance_call``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from backend.assistance.entitlements import (
    Cause,
    EntitlementDecision,
    Incident,
    Policy,
    Service,
    decide_entitlement,
)
from backend.dates import utc_date
from protocols.assistance import AssistanceCall, AssistanceKind, validate_assistance_call
from protocols.geo import country_at

AssistanceService = Literal["roadside_assistance", "accident_assistance"]
SERVICE_OF: Final[dict[AssistanceKind, AssistanceService]] = {
    "breakdown": "roadside_assistance",
    "failed_update": "roadside_assistance",
    "manual": "roadside_assistance",
    "light_accident": "accident_assistance",
}
CAUSE_OF: Final[dict[AssistanceKind, Cause]] = {
    "breakdown": "technical_defect",
    "failed_update": "technical_defect",
    "manual": "technical_defect",
    "light_accident": "external_impact",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """What the specialist learns beyond the call; None fields are taken from the call.

    ``country`` None: the country at the call's position. ``cause`` None: a technical
    defect, or an external impact for a light accident. ``drivable`` None: the car's
    own ``vehicle_status["drivable"]``. ``requested`` None: every service.
    """

    country: str | None = None
    cause: Cause | None = None
    drivable: bool | None = None
    repair_working_days: int = 0
    repairable_on_site: bool = False
    requested: tuple[Service, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistanceCase:
    """The call, the entitlement decision with its reasons, and when it was opened and
    closed; its service names the catalogue entry whose rule its tag holds."""

    call: AssistanceCall
    incident: Incident
    decision: EntitlementDecision
    service: AssistanceService
    opened_at: float
    closed_at: float | None = None

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.decision.reasons

    @property
    def status(self) -> Literal["open", "closed"]:
        return "open" if self.closed_at is None else "closed"


def decide_case(call: AssistanceCall, policy: Policy, *, now: float,
                assessment: Assessment | None = None) -> AssistanceCase:
    """Open the case for ``call`` and decide the customer's entitlements."""
    validate_assistance_call(call)
    found = assessment or Assessment()
    drivable = found.drivable
    if drivable is None:
        drivable = bool(call.vehicle_status.get("drivable", False))
    incident = Incident(
        kind=call.kind, lat=call.lat, lon=call.lon,
        country=found.country or country_at(call.lat, call.lon) or "",
        on=utc_date(call.at), cause=found.cause or CAUSE_OF[call.kind],
        repair_working_days=found.repair_working_days, drivable=drivable,
        repairable_on_site=found.repairable_on_site,
    )
    decision = decide_entitlement(policy, incident, found.requested)
    return AssistanceCase(call=call, incident=incident, decision=decision,
                          service=SERVICE_OF[call.kind], opened_at=now)


def close_case(case: AssistanceCase, *, now: float) -> AssistanceCase:
    """All procedures completed: from now the record may be deleted (MINI Connected §16e, AS-R4)."""
    if case.closed_at is not None:
        return case
    return replace(case, closed_at=now)
