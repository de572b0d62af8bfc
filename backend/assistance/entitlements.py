"""The assistance desk's entitlement decision: which programme, which rules.

``decide_entitlement`` is pure: the policy, the incident as assessed and the services
asked for go in; an ``EntitlementDecision`` with its reasons comes out, and becomes part
of the case (MINI Connected §16e/§16f, AS-R6: the specialist organises help; Road Assist 24/7 and
SI car assistance say what the customer is entitled to, docs/requirements.md#road-assist
and #si-assistance). The rules live in one module per programme:

* ``road_assist_24_7`` → ``backend.assistance.road_assist`` (MINI Road Assist 24/7, RA-R1 to RA-R7);
* ``si_car_assistance`` → ``backend.assistance.si_assistance`` (SI car assistance,
  Triglav PG-aas-mini/23-12).

Working days skip weekends (``backend.dates``); every number is a named constant in
its rule module with the requirement or article it comes from.
"""

from __future__ import annotations

from backend.assistance.entitlement_model import (
    Cause,
    EntitlementDecision,
    Grant,
    Incident,
    Policy,
    Programme,
    Service,
)
from backend.assistance.road_assist import decide_road_assist
from backend.assistance.si_assistance import decide_si

__all__ = [
    "Cause",
    "EntitlementDecision",
    "Grant",
    "Incident",
    "Policy",
    "Programme",
    "Service",
    "decide_entitlement",
]


def decide_entitlement(policy: Policy, incident: Incident,
                       requested: tuple[Service, ...] | None = None) -> EntitlementDecision:
    """Apply the policy's programme to the incident; ``requested`` None: every service."""
    if policy.programme == "road_assist_24_7":
        return decide_road_assist(policy, incident, requested)
    return decide_si(policy, incident, requested)
