"""The car's Teleservice and Smart Maintenance cadence, and the 50 KB size rule."""

from __future__ import annotations

import pytest

from protocols.errors import EnvelopeError
from protocols.teleservice import (
    TELESERVICE_MAX_BYTES,
    ServiceItem,
    SmartMaintenanceTransfer,
    TeleserviceCall,
    item_status,
    packed,
    unpack_call,
    unpack_smart_transfer,
    validate_call,
    validate_smart_transfer,
)
from vehicle_sim.teleservice import (
    CALL_INTERVAL_KM,
    CALL_INTERVAL_S,
    DAY_S,
    SERVICE_ITEMS_BY_PROPULSION,
    TeleserviceState,
    after_call,
    after_smart,
    build_call,
    build_smart_transfer,
    call_reason,
    cbs_items,
    due_reason,
    needs_of,
    propulsion_of,
    service_need,
    smart_due,
)

VIN = "WMW21DH0X0T123451"
T0 = 1_767_225_600.0
STATE = TeleserviceState(last_call_at=T0, last_call_odometer_km=10_000.0)


@pytest.mark.parametrize(("days", "km", "expected"), [
    (0.0, 0.0, None),
    (27.999, 999.9, None),
    (28.0, 0.0, "interval_28d"),
    (0.0, 1_000.0, "distance_1000km"),
    (28.0, 999.0, "interval_28d"),
    (10.0, 1_000.0, "distance_1000km"),
    (30.0, 1_500.0, "distance_1000km"),  # 1.5 of the distance, 1.07 of the time
    (42.0, 1_100.0, "interval_28d"),  # 1.5 of the time, 1.1 of the distance
    (28.0, 1_000.0, "interval_28d"),  # both exactly at once: the time leg is named
])
def test_teleservice_due_reason_whichever_first(days: float, km: float,
                                                expected: str | None) -> None:
    """28 days or 1,000 km after the last call, whichever first, both inclusive."""
    assert due_reason(STATE, now=T0 + days * DAY_S, odometer_km=10_000.0 + km) == expected


def test_teleservice_due_reason_exact_boundaries() -> None:
    """One second or one metre short of a limit is not yet due; the limit itself is."""
    assert due_reason(STATE, now=T0 + CALL_INTERVAL_S - 1, odometer_km=10_999.999) is None
    assert due_reason(STATE, now=T0 + CALL_INTERVAL_S, odometer_km=10_000.0) == "interval_28d"
    assert due_reason(STATE, now=T0, odometer_km=10_000.0 + CALL_INTERVAL_KM) == (
        "distance_1000km")


def test_teleservice_due_reason_odometer_backwards_is_refused() -> None:
    """An odometer below the last call's is a fault of the caller, not a call."""
    with pytest.raises(ValueError, match="never runs backwards"):
        due_reason(STATE, now=T0, odometer_km=9_999.0)


def test_teleservice_after_call_resets_both_legs() -> None:
    """After any call, time and distance count again from that call."""
    later = T0 + 20 * DAY_S
    state = after_call(STATE, later, 10_800.0)
    assert due_reason(state, now=T0 + 29 * DAY_S, odometer_km=11_000.0) is None
    assert due_reason(state, now=later + CALL_INTERVAL_S, odometer_km=11_000.0) == (
        "interval_28d")
    assert due_reason(state, now=later, odometer_km=11_800.0) == "distance_1000km"


def test_teleservice_service_need_from_faults_or_items() -> None:
    """A fault code or an item not "ok" is a service need; all-ok findings are not."""
    ok = ServiceItem("engine_oil", 9_000.0, 200.0, "ok")
    due = ServiceItem("brake_fluid", 3_000.0, 20.0, "due")
    assert not service_need([], [ok])
    assert service_need(["P0300"], [ok])
    assert service_need([], [ok, due])
    assert needs_of(["P0300"], [ok, due]) == ("cbs:brake_fluid", "dtc:P0300")


def test_teleservice_call_reason_new_need_only_once() -> None:
    """A need triggers one service-need call; the same need does not call again."""
    faults = ["P0420"]
    assert call_reason(STATE, now=T0 + DAY_S, odometer_km=10_050.0,
                       fault_codes=faults) == "service_need"
    state = after_call(STATE, T0 + DAY_S, 10_050.0, needs=needs_of(faults, []))
    assert call_reason(state, now=T0 + 2 * DAY_S, odometer_km=10_100.0,
                       fault_codes=faults) is None
    assert call_reason(state, now=T0 + 2 * DAY_S, odometer_km=10_100.0,
                       fault_codes=[*faults, "U0100"]) == "service_need"


@pytest.mark.parametrize(("km", "days", "status"), [
    (10_000.0, 365.0, "ok"), (1_500.0, 365.0, "due"), (10_000.0, 30.0, "due"),
    (0.0, 100.0, "overdue"), (5_000.0, -1.0, "overdue"),
])
def test_teleservice_item_status_margins(km: float, days: float, status: str) -> None:
    """CBS status: overdue past a limit, due within 1,500 km or 30 days."""
    assert item_status(km, days) == status


def test_teleservice_scope_lists_follow_propulsion() -> None:
    """A BEV has no engine oil or spark plugs; diesel has a fuel filter, petrol plugs."""
    bev = set(SERVICE_ITEMS_BY_PROPULSION["bev"])
    assert {"vehicle_check", "microfilter", "brake_fluid"} <= bev
    assert not bev & {"engine_oil", "spark_plugs", "fuel_filter", "air_filter"}
    assert "fuel_filter" in SERVICE_ITEMS_BY_PROPULSION["diesel"]
    assert "spark_plugs" not in SERVICE_ITEMS_BY_PROPULSION["diesel"]
    assert "spark_plugs" in SERVICE_ITEMS_BY_PROPULSION["petrol"]
    assert {"door_hinges", "front_door_gas_strut"} <= set(
        SERVICE_ITEMS_BY_PROPULSION["phev_petrol"])
    with pytest.raises(ValueError, match="not in the bev service scope"):
        cbs_items("bev", {"engine_oil": (500.0, 10.0)})


@pytest.mark.parametrize(("kinds", "propulsion"), [
    (["gasoline"], "petrol"), (["diesel"], "diesel"), (["electric"], "bev"),
    (["gasoline", "electric"], "phev_petrol"), (["diesel", "electric"], "phev_diesel"),
    (["lpg"], "petrol"),
])
def test_teleservice_propulsion_of_scenario_kinds(kinds: list[str], propulsion: str) -> None:
    """The scenario's EN 15722 propulsion set maps onto a scope list."""
    assert propulsion_of(kinds) == propulsion


def test_teleservice_smart_due_needs_opt_in_and_os7() -> None:
    """Without consent, or below OS 7, Smart Maintenance never sends."""
    for opted_in, os_version in ((False, 9), (True, 6), (False, 6)):
        assert smart_due(STATE, opted_in=opted_in, os_version=os_version, now=T0 + 30 * DAY_S,
                         trip_ended=True) is None
    assert smart_due(STATE, opted_in=True, os_version=7, now=T0, trip_ended=True) == "trip"


def test_teleservice_smart_due_weekly_vs_trip() -> None:
    """A trip end sends at once; otherwise one transfer per week, the limit inclusive."""
    state = after_smart(STATE, T0)

    def due(now: float, trip_ended: bool) -> str | None:
        return smart_due(state, opted_in=True, os_version=8, now=now, trip_ended=trip_ended)

    assert due(T0 + 7 * DAY_S - 1, False) is None
    assert due(T0 + 7 * DAY_S, False) == "weekly"
    assert due(T0 + DAY_S, True) == "trip"
    assert smart_due(STATE, opted_in=True, os_version=7, now=T0, trip_ended=False) == "weekly"


def test_teleservice_call_with_many_faults_stays_under_50kb() -> None:
    """A call with 500 fault codes and every item fits the 50 KB and round-trips."""
    scope = SERVICE_ITEMS_BY_PROPULSION["phev_petrol"]
    items = cbs_items("phev_petrol", dict.fromkeys(scope, (800.0, 12.0)))
    call = build_call(vin=VIN, call_id="c-1", reason="service_need", now=T0, sent_ns=1,
                      odometer_km=12_345.6, propulsion="phev_petrol",
                      fault_codes=[f"P{n:04d}" for n in range(500)], items=items)
    data = validate_call(call)
    assert len(data) <= TELESERVICE_MAX_BYTES
    assert unpack_call(data) == call


def test_teleservice_call_over_50kb_is_refused_naming_the_field() -> None:
    """A call packed above 50,000 bytes raises EnvelopeError with field and rule."""
    faults = [f"P{n:04d}-{'x' * 40}" for n in range(2_000)]
    with pytest.raises(EnvelopeError) as caught:
        build_call(vin=VIN, call_id="c-2", reason="service_need", now=T0, sent_ns=1,
                   odometer_km=1.0, propulsion="bev", fault_codes=faults)
    assert (caught.value.field, caught.value.rule) == (
        "teleservice_call", "at most 50 KB (MINI Connected §16a, TS-R2)")
    big = TeleserviceCall(VIN, "c-3", "interval_28d", 1.0, 1, T0, "bev", faults)
    with pytest.raises(EnvelopeError, match="teleservice_call"):
        unpack_call(packed(big))


def test_teleservice_smart_transfer_size_rule_is_shared() -> None:
    """Smart Maintenance shares the 50 KB limit; a normal transfer round-trips."""
    transfer = build_smart_transfer(vin=VIN, transfer_id="s-1", trigger="trip", now=T0,
                                    sent_ns=2, odometer_km=100.0,
                                    readings={"oil_level_pct": 81.0})
    assert unpack_smart_transfer(validate_smart_transfer(transfer)) == transfer
    huge = SmartMaintenanceTransfer(VIN, "s-2", "weekly", 1.0, T0, 2,
                                    {f"sensor_{n:05d}": float(n) for n in range(5_000)})
    with pytest.raises(EnvelopeError) as caught:
        validate_smart_transfer(huge)
    assert caught.value.field == "smart_maintenance"


def test_teleservice_call_rejects_bad_fields() -> None:
    """Unknown reasons and negative odometers are refused when the call is built."""
    with pytest.raises(EnvelopeError) as caught:
        # An unknown reason on purpose: the runtime check is under test.
        TeleserviceCall(VIN, "c-4", "monthly", 1.0, 1, T0, "bev")  # type: ignore[arg-type]
    assert caught.value.field == "reason"
    with pytest.raises(EnvelopeError) as caught:
        TeleserviceCall(VIN, "c-5", "interval_28d", -1.0, 1, T0, "bev")
    assert caught.value.field == "odometer_km"
    with pytest.raises(ValueError, match="not in the bev service scope"):
        build_call(vin=VIN, call_id="c-6", reason="service_need", now=T0, sent_ns=1,
                   odometer_km=1.0, propulsion="bev",
                   items=[ServiceItem("spark_plugs", 1.0, 1.0, "due")])
