"""Assistance cases: the call, the entitlement decision and the retention tags."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from backend.assistance.desk import Assessment, close_case, decide_case
from backend.assistance.entitlements import Policy
from protocols.assistance import AssistanceCall
from protocols.catalogue import entry
from protocols.errors import EnvelopeError

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC).timestamp()
POLICY = Policy(programme="road_assist_24_7", home_country="BE", home_lat=50.8467,
                home_lon=4.3525, pickup_date=date(2023, 5, 1))


def _call(**changes: Any) -> AssistanceCall:
    values: dict[str, Any] = {
        "vin": "WMW11GD0X0T000001", "request_id": "r-1", "kind": "breakdown",
        "channel": "car", "customer_confirmed": False, "lat": 50.6326, "lon": 5.5797,
        "vehicle_status": {"fault_codes": ["P0A80"], "warning_lamps": [], "drivable": False,
                           "soc_pct": 40.0},
        "movement": {"speed_kmh": 0.0, "heading_deg": 10.0, "odometer_km": 1000.0},
        "at": AT, "sent_ns": 1,
    }
    return AssistanceCall(**(values | changes))


@pytest.mark.parametrize(("kind", "service"), [
    ("breakdown", "roadside_assistance"), ("manual", "roadside_assistance"),
    ("failed_update", "roadside_assistance"), ("light_accident", "accident_assistance"),
])
def test_decide_case_tags_service_and_retention(kind: str, service: str) -> None:
    """Each kind lands in its service, whose rule (what the case's tag will hold) keeps
    data until the procedures are closed."""
    case = decide_case(_call(kind=kind), POLICY, now=AT + 5)
    assert case.service == service
    assert entry(case.service).retention.kind == "until_closed"
    assert case.status == "open"


def test_decide_case_carries_the_decision_and_reasons() -> None:
    """The entitlement decision and its reasons are part of the case."""
    case = decide_case(_call(), POLICY, now=AT,
                       assessment=Assessment(repair_working_days=4, requested=("hotel",)))
    assert case.incident.country == "BE"
    assert case.incident.on == date(2025, 3, 3)
    assert case.decision.valid
    assert case.decision.grant("hotel") is not None
    assert case.reasons == case.decision.reasons


def test_decide_case_refuses_unconfirmed_phone_data() -> None:
    """The desk never holds data a phone request got without confirmation in the car."""
    with pytest.raises(EnvelopeError):
        decide_case(_call(channel="phone"), POLICY, now=AT)


def test_close_case_sets_the_deletion_point_once() -> None:
    """Closing marks the procedures completed; closing again keeps the first time."""
    case = close_case(decide_case(_call(), POLICY, now=AT), now=AT + 100)
    assert case.status == "closed"
    assert close_case(case, now=AT + 999).closed_at == AT + 100
