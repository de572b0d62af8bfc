"""The check step and the newer expectations: how they load, what they refuse, and the
pure judgements behind them (counts, timed calls, deletion windows, desk content)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from protocols.msd.jsonform import msd_to_json
from protocols.msd.model import Msd, Propulsion, VehicleLocation
from vehicle_sim.checks.content import at_path, content_problems
from vehicle_sim.checks.deletion import audited
from vehicle_sim.checks.view import CarView, RunView
from vehicle_sim.scenario import CheckEvent, ScenarioError, load, parse
from vehicle_sim.scenario_checks import CallsDef, ContentDef, CountDef, DeletionDef, day_start

BASE = """
name: t
vehicles:
  - {id: a, vin: WMW21DH0X0T123451, position: {lat: 50.8, lon: 4.3}, activation_country: BE}
"""


def test_scenario_checks_a_check_step_holds_items_of_every_kind() -> None:
    scenario = parse(BASE + """
events:
  - at: 2026-03-01T08:00
    check:
      - {count: {of: incidents, desk: psap-BE, exactly: 0}}
      - {expect: {vehicle: a, variant: legal, desk: psap-BE}}
      - {retention: {overdue: 0}}
      - {stored: {incident_of: a, present: false}}
expect_checks:
  - {calls: {vehicle: a, teleservice_calls: [{reason: interval_28d, day: 28}]}}
""")
    step = scenario.events[0]
    assert isinstance(step, CheckEvent)
    assert step.instant == datetime(2026, 3, 1, 8, tzinfo=UTC).timestamp()
    assert [item.kind for item in step.check] == ["count", "expect", "retention", "stored"]
    assert [item.vehicles() for item in step.check] == [[], ["a"], [], ["a"]]
    assert scenario.expect_checks[0].kind == "calls"


@pytest.mark.parametrize(("extra", "where"), [
    ("events:\n  - {check: []}", "events.0.check"),
    ("events:\n  - {check: [{count: {of: incidents, desk: x, exactly: 1},"
     " stored: {vin_of: a, present: true}}]}", "events.0.check.0"),
    ("events:\n  - {check: [{count: {of: incidents, exactly: 1}}]}", "events.0.check.0.count"),
    ("events:\n  - {check: [{count: {of: teleservice_calls}}]}", "events.0.check.0.count"),
    ("events:\n  - {check: [{count: {of: smart_maintenance, exactly: 1, at_most: 2}}]}",
     "events.0.check.0.count"),
    ("events:\n  - {check: [{content: {vehicle: b, desk: callcentre}}]}",
     r"events\[0\]\.check\[0\]\.vehicle 'b'"),
    ("expect_checks:\n  - {deletion: {record: hv_case, vehicle: a, held_until: 2027-01-14,"
     " gone_by: 2027-01-15}}", "expect_checks.0.deletion"),
    ("expect_checks:\n  - {stored: {present: true}}", "expect_checks.0.stored"),
    ("expect_checks:\n  - {stored: {msd_of: a, vin_of: a, present: true}}",
     "expect_checks.0.stored"),
    ("expect_checks:\n  - {stored: {vin_of: nobody, present: true}}",
     r"expect_checks\[0\]\.vehicle 'nobody'"),
])
def test_scenario_checks_mistakes_are_named(extra: str, where: str) -> None:
    with pytest.raises(ScenarioError, match=where):
        parse(BASE + extra)


def test_scenario_checks_count_bounds() -> None:
    none = CountDef(of="incidents", desk="psap-NL", exactly=0)
    assert none.holds(0) and not none.holds(1)
    some = CountDef(of="teleservice_calls", vehicle="a", at_least=2, at_most=3)
    assert [some.holds(n) for n in (1, 2, 3, 4)] == [False, True, True, False]
    assert (none.wanted(), some.wanted()) == ("exactly 0", "at least 2 and at most 3")
    assert none.label == "count incidents at psap-NL of all cars"


def test_scenario_checks_timed_calls_within_their_tolerance() -> None:
    calls = CallsDef.model_validate({"vehicle": "a", "tolerance_km": 20, "teleservice_calls": [
        {"reason": "distance_1000km", "odometer_km": 1000},
        {"reason": "interval_28d", "day": 28}]})
    assert calls.mismatch([("distance_1000km", 3.0, 1012.0), ("interval_28d", 28.4, 1100.0)]
                          ) is None
    assert calls.mismatch([("distance_1000km", 3.0, 1030.0), ("interval_28d", 28, 0)]) == (
        "call 1 (distance_1000km) at 1030 km, expected 1000.0")
    assert "on day 30.00, expected day 28" in str(calls.mismatch(
        [("distance_1000km", 3.0, 1000.0), ("interval_28d", 30.0, 0)]))
    assert calls.mismatch([("interval_28d", 28.0, 0)]) == (
        "calls ['interval_28d'], expected ['distance_1000km', 'interval_28d']")


def test_scenario_checks_deletion_window_by_calendar_days() -> None:
    """Held on 14 January, gone by 16 January: the deletion falls on 15 January (UTC)."""
    expect = DeletionDef(record="hv_case", vehicle="a", held_until=date(2027, 1, 14),
                         gone_by=date(2027, 1, 16))
    low, high = expect.window
    assert (low, high) == (day_start(date(2027, 1, 15)), day_start(date(2027, 1, 16)))
    assert [expect.phase(t) for t in (low - 1, low, high - 1, high)] == [
        "held", "between", "between", "gone"]
    due = datetime(2027, 1, 15, 10, tzinfo=UTC).timestamp()
    six_times_thirty = datetime(2027, 1, 11, 10, tzinfo=UTC).timestamp()
    audit = [{"record_type": "hv_warn_case", "deadline": repr(due), "deleted_at": repr(due)},
             {"record_type": "hv_warn_case", "deadline": repr(six_times_thirty),
              "deleted_at": repr(six_times_thirty)},
             {"record_type": "ecall_case", "deadline": repr(due), "deleted_at": repr(due)},
             {"record_type": "hv_warn_case", "deadline": repr(due), "deleted_at": ""}]
    assert audited(audit, "hv_warn_case", expect.window) == audit[:1]


def _msd(*, vin: str, at: float, lat: float, lon: float) -> Msd:
    return Msd(message_identifier=1, automatic_activation=True, test_call=False,
               position_can_be_trusted=True, vehicle_type="passengerVehicleCategoryM1",
               vin=vin, propulsion=Propulsion(gasoline_tank_present=True), timestamp=int(at),
               location=VehicleLocation.from_degrees(lat, lon), direction=0)


def test_scenario_checks_content_reads_the_msd_and_dotted_fields() -> None:
    at = datetime(2026, 3, 1, 8, tzinfo=UTC)
    record = {"variant": "intelligent", "extras": {"doors": {"front_left": "closed"}},
              "transmissions": [{"msg_id": 1}, {"msg_id": 2}],
              "msd": msd_to_json(_msd(vin="WMW21DH0X0T123451", at=at.timestamp(),
                                      lat=50.8, lon=4.3))}
    assert at_path(record, "extras.doors.front_left") == "closed"
    assert at_path(record, "transmissions.1.msg_id") == 2
    good = ContentDef(vehicle="a", desk="psap-BE", msg_ids=[1, 2], timestamp=at,
                      position_within_m=50, vin=True,
                      fields={"variant": "intelligent", "extras.doors.front_left": "closed"})
    assert content_problems(good, record, "WMW21DH0X0T123451", (50.8, 4.3)) == []
    bad = ContentDef(vehicle="a", desk="psap-BE", msg_ids=[1], position_within_m=50,
                     vin=True, timestamp=datetime(2026, 3, 2, 8),
                     fields={"extras.plug_state": "plugged"})
    assert content_problems(bad, record, "WMW21DH0X0T999999", (50.9, 4.3)) == [
        "messageIdentifiers [1, 2], expected [1]",
        "MSD timestamp 1772352000, expected 2026-03-02T08:00:00+00:00",
        "MSD position 11120 m from the car",
        "MSD VIN WMW21DH0X0T123451, expected WMW21DH0X0T999999",
        "extras.plug_state is missing, expected 'plugged'"]
    assert content_problems(bad, {"transmissions": []}, "V", (0, 0))[1] == (
        "the desk holds no readable MSD")


def test_scenario_checks_run_view_counts_only_this_runs_calls() -> None:
    view = RunView(cars={"a": CarView(vin="V1", position=(0, 0), call_ids=frozenset({"c1"}))},
                   fleet_calls={"F1": frozenset({"f1"})}, start=1000.0, now=1000.0 + 86_400)
    assert view.calls("a") == {"V1": frozenset({"c1"})}
    assert view.calls(None) == {"V1": frozenset({"c1"}), "F1": frozenset({"f1"})}
    assert view.day(view.now) == 1.0


def test_scenario_checks_shipped_retention_dates_scenario_checks_in_time() -> None:
    scenario = load("hv_retention_dates")
    steps = [e for e in scenario.events if isinstance(e, CheckEvent)]
    assert [s.instant for s in steps[1:]] == [
        datetime(2027, 1, 14, 20, tzinfo=UTC).timestamp(),
        datetime(2027, 1, 16, tzinfo=UTC).timestamp()]
    assert {item.kind for item in scenario.expect_checks} == {"deletion", "stored", "count"}
