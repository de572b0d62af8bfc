"""HV Warn Call and assistance-call records: fields, budgets and the confirmation rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack
import pytest

from protocols.assistance import (
    ASSISTANCE_CALL_MAX,
    AssistanceCall,
    may_send_data,
    pack_assistance_call,
    unpack_assistance_call,
    validate_assistance_call,
)
from protocols.errors import EnvelopeError
from protocols.hv import HV_CALL_MAX, HvWarnCall, pack_hv_call, unpack_hv_call, validate_hv_call

SECTION_2B_FIELDS = {
    "vin", "lat", "lon", "model", "plug_state", "incident", "timestamp", "doors", "boot",
    "engine_state", "ignition",
}


def _hv(**changes: Any) -> HvWarnCall:
    values: dict[str, Any] = {
        "vin": "WMW11GD0X0T000001", "lat": 50.85, "lon": 4.35, "model": "BEV",
        "plug_state": "plugged", "incident": "WMW11GD0X0T000001-hv-1",
        "timestamp": 1_700_000_000.0, "doors": {"front_left": "closed", "front_right": "open"},
        "boot": "closed", "engine_state": "off", "ignition": "off", "sent_ns": 7,
    }
    return HvWarnCall(**(values | changes))


def _assist(**changes: Any) -> AssistanceCall:
    values: dict[str, Any] = {
        "vin": "WMW11GD0X0T000001", "request_id": "r-1", "kind": "breakdown",
        "channel": "car", "customer_confirmed": False, "lat": 50.85, "lon": 4.35,
        "vehicle_status": {"fault_codes": ["P0A80"], "warning_lamps": [], "drivable": False,
                           "soc_pct": 40.0},
        "movement": {"speed_kmh": 0.0, "heading_deg": 10.0, "odometer_km": 1000.0},
        "at": 1_700_000_000.0, "sent_ns": 7,
    }
    return AssistanceCall(**(values | changes))


def test_hv_call_has_exactly_the_2b_fields() -> None:
    """The record holds the §2b list plus sent_ns, nothing more."""
    names = {f.name for f in dataclasses.fields(HvWarnCall)}
    assert names == SECTION_2B_FIELDS | {"sent_ns"}


def test_hv_call_round_trips_under_25_kb() -> None:
    """Packed and read back unchanged, well within the 25 KB budget."""
    call = _hv()
    data = pack_hv_call(call)
    assert len(data) <= HV_CALL_MAX
    assert validate_hv_call(call) == len(data)
    assert unpack_hv_call(data) == call


@pytest.mark.parametrize("model", ["ICE", "FCEV", ""])
def test_hv_call_refuses_a_model_without_hv_battery(model: str) -> None:
    """Only BEV and PHEV have the service (MINI Connected §2b, HV-R1)."""
    with pytest.raises(EnvelopeError) as info:
        _hv(model=model)
    assert info.value.field == "model"


@pytest.mark.parametrize(("field", "value"), [
    ("plug_state", "half"), ("boot", "ajar"), ("engine_state", "idle"), ("ignition", "acc"),
    ("doors", {"front_left": "ajar"}), ("doors", {}), ("lat", 91.0), ("incident", ""),
])
def test_hv_call_refuses_values_outside_the_contract(field: str, value: object) -> None:
    """Every status field takes only its documented values."""
    with pytest.raises(EnvelopeError) as info:
        _hv(**{field: value})
    assert info.value.field.startswith(field)


def test_hv_call_over_25_kb_is_refused() -> None:
    """A warn call over the budget fails with the rule of HV-R5."""
    call = _hv(doors={f"door_{i}_" + "x" * 4000: "closed" for i in range(7)})
    with pytest.raises(EnvelopeError) as info:
        validate_hv_call(call)
    assert info.value.rule == "under 25 KB (MINI Connected §2b, HV-R5)"
    with pytest.raises(EnvelopeError):
        pack_hv_call(call)


def test_hv_call_unpack_refuses_wrong_kind_and_types() -> None:
    """Reading checks the header and the field types."""
    body = dataclasses.asdict(_hv()) | {"v": 1, "k": "assistance_call"}
    with pytest.raises(EnvelopeError) as info:
        unpack_hv_call(msgpack.packb(body))
    assert info.value.field == "k"
    body = dataclasses.asdict(_hv()) | {"v": 1, "k": "hv_warn_call", "sent_ns": "7"}
    with pytest.raises(EnvelopeError) as info:
        unpack_hv_call(msgpack.packb(body))
    assert info.value.field == "sent_ns"


def test_assistance_call_round_trips_under_50_kb() -> None:
    """A car-channel call packs, stays within 50 KB and reads back unchanged."""
    call = _assist()
    data = pack_assistance_call(call)
    assert len(data) <= ASSISTANCE_CALL_MAX
    assert unpack_assistance_call(data) == call


def test_assistance_call_over_50_kb_is_refused() -> None:
    """The 50 KB budget of MINI Connected §16e/§16f (AS-R3) is enforced."""
    status = {"fault_codes": [f"P{i:04d}" + "x" * 100 for i in range(500)],
              "warning_lamps": [], "drivable": False, "fuel_pct": 5.0}
    with pytest.raises(EnvelopeError) as info:
        validate_assistance_call(_assist(vehicle_status=status))
    assert info.value.rule == "under 50 KB (MINI Connected §16e/§16f, AS-R3)"


@pytest.mark.parametrize(("channel", "confirmed", "allowed"), [
    ("car", False, True), ("car", True, True), ("app", False, False), ("app", True, True),
    ("phone", False, False), ("phone", True, True),
])
def test_assistance_may_send_data_needs_confirmation_off_car(
        channel: str, confirmed: bool, allowed: bool) -> None:
    """Data requested by app or phone goes only after confirmation in the car."""
    call = _assist(channel=channel, customer_confirmed=confirmed)
    assert may_send_data(call) is allowed
    if allowed:
        validate_assistance_call(call)
    else:
        with pytest.raises(EnvelopeError) as info:
            pack_assistance_call(call)
        assert info.value.field == "customer_confirmed"


def test_assistance_unpack_refuses_unconfirmed_data() -> None:
    """A receiver refuses data from a phone request that was never confirmed."""
    body = dataclasses.asdict(_assist(channel="phone")) | {"v": 1, "k": "assistance_call"}
    with pytest.raises(EnvelopeError) as info:
        unpack_assistance_call(msgpack.packb(body))
    assert info.value.field == "customer_confirmed"


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "theft"}, "kind"),
    ({"channel": "email"}, "channel"),
    ({"vehicle_status": {"fault_codes": [], "warning_lamps": [], "drivable": True}},
     "vehicle_status.fuel_pct"),
    ({"vehicle_status": {"fault_codes": [], "warning_lamps": [], "drivable": 1,
                         "fuel_pct": 3.0}}, "vehicle_status.drivable"),
    ({"movement": {"speed_kmh": 0.0, "heading_deg": 400.0, "odometer_km": 1.0}},
     "movement.heading_deg"),
    ({"movement": {"speed_kmh": 0.0, "odometer_km": 1.0}}, "movement.heading_deg"),
])
def test_assistance_call_refuses_malformed_blocks(changes: dict[str, Any], field: str) -> None:
    """Kind, channel, vehicle status and movement follow the contract."""
    with pytest.raises(EnvelopeError) as info:
        _assist(**changes)
    assert info.value.field == field
