"""The car's assistance-call and HV warn-call builders (HV-R3, AS-R1, AS-R2)."""

from __future__ import annotations

import pytest

from protocols.assistance import AssistanceKind, Channel, validate_assistance_call
from protocols.hv import validate_hv_call
from vehicle_sim.assistance import CarSnapshot, detect_kind, raise_call
from vehicle_sim.battery import BatteryState, step, thermal_runaway
from vehicle_sim.hv_warn import BodySnapshot, warn_call

VIN = "WMW11GD0X0T000001"
SNAPSHOT = CarSnapshot(lat=50.85, lon=4.35, fault_codes=("P0A80",),
                       warning_lamps=("drivetrain",), drivable=False, soc_pct=41.0,
                       speed_kmh=0.0, heading_deg=90.0, odometer_km=12_345.6)


def _raise(channel: Channel, confirmed: bool,
           kind: AssistanceKind = "breakdown") -> object:
    return raise_call(kind, SNAPSHOT, vin=VIN, request_id="r-1", channel=channel,
                      confirmed=confirmed, now=1_700_000_000.0, sent_ns=1)


def test_raise_call_from_the_car_sends_at_once() -> None:
    """A call started in the car carries status, position and movement."""
    call = raise_call("breakdown", SNAPSHOT, vin=VIN, request_id="r-1", channel="car",
                      confirmed=False, now=1_700_000_000.0, sent_ns=1)
    assert call is not None
    assert call.vehicle_status["fault_codes"] == ["P0A80"]
    assert call.vehicle_status["drivable"] is False
    assert call.vehicle_status["soc_pct"] == 41.0
    assert "fuel_pct" not in call.vehicle_status
    assert call.movement == {"speed_kmh": 0.0, "heading_deg": 90.0, "odometer_km": 12_345.6}
    assert (call.lat, call.lon, call.at) == (50.85, 4.35, 1_700_000_000.0)
    assert validate_assistance_call(call) < 50_000


@pytest.mark.parametrize("channel", ["app", "phone"])
def test_raise_call_from_another_channel_waits_for_confirmation(channel: Channel) -> None:
    """From app or phone nothing leaves the car until the customer confirms in it."""
    assert _raise(channel, confirmed=False) is None
    assert _raise(channel, confirmed=True) is not None


def test_raise_call_keeps_required_status_keys() -> None:
    """Extra status entries cannot override the contract's keys."""
    snap = CarSnapshot(lat=1.0, lon=2.0, fuel_pct=10.0,
                       extra_status={"drivable": "yes", "tyres": "ok"})
    status = snap.vehicle_status()
    assert status["drivable"] is True
    assert status["tyres"] == "ok"


@pytest.mark.parametrize(
    ("light_impact", "update_aborted", "faults", "drivable", "expected"),
    [
        (True, True, ("X",), False, "light_accident"),
        (False, True, ("X",), False, "failed_update"),
        (False, False, ("X",), True, "breakdown"),
        (False, False, (), False, "breakdown"),
        (False, False, (), True, None),
    ],
)
def test_detect_kind_orders_the_causes(light_impact: bool, update_aborted: bool,
                                       faults: tuple[str, ...], drivable: bool,
                                       expected: str | None) -> None:
    """Accident outranks failed update, which outranks a plain fault; a sound car offers none."""
    snap = CarSnapshot(lat=0.0, lon=0.0, fault_codes=faults, drivable=drivable, fuel_pct=50.0)
    assert detect_kind(snap, light_impact=light_impact,
                       update_aborted=update_aborted) == expected


def test_warn_call_carries_the_event_and_body_state() -> None:
    """A thermal event becomes a §2b warn call with the pack's incident number."""
    battery = thermal_runaway(BatteryState.at_rest("PHEV", ambient_c=20.0, now=0.0), 0.0)
    battery, events = step(battery, 3600.0, mode="charging", ambient_c=20.0, now=3600.0)
    body = BodySnapshot(lat=46.05, lon=14.51, plug_state="plugged")
    call = warn_call(events[0], battery, body, vin=VIN, sent_ns=5)
    assert call.model == "PHEV"
    assert call.plug_state == "plugged"
    assert call.timestamp == events[0].at
    assert call.incident == f"{VIN}-hv-1"
    assert call.doors["front_left"] == "closed"
    assert validate_hv_call(call) < 25_000
