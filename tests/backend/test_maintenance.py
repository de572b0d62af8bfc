"""Maintenance needs and the case life cycle, pure."""

from __future__ import annotations

import pytest

from backend.services.errors import CaseTransitionError
from backend.services.maintenance import (
    CallRecord,
    close,
    decide,
    late_calls,
    notify,
    open_case,
    superseded,
)
from protocols.teleservice import CallReason, ServiceItem, SmartMaintenanceTransfer, TeleserviceCall

VIN = "WMW21DH0X0T123451"
T0 = 1_767_225_600.0
FAR = ServiceItem("engine_oil", 12_000.0, 300.0, "ok")


def _call(reason: CallReason = "interval_28d", *, faults: list[str] | None = None,
          items: list[ServiceItem] | None = None) -> TeleserviceCall:
    return TeleserviceCall(VIN, "c-1", reason, 20_000.0, 1, T0, "petrol",
                           faults or [], items or [FAR])


def test_maintenance_decide_interval_call_without_findings_is_no_need() -> None:
    """A regular call with nothing due is recorded but opens nothing."""
    assert decide(_call()) is None
    assert decide(_call("distance_1000km")) is None


@pytest.mark.parametrize(("km", "days", "need"), [
    (1_500.0, 300.0, True), (1_500.1, 300.0, False),
    (9_000.0, 30.0, True), (9_000.0, 30.1, False), (-10.0, 300.0, True),
])
def test_maintenance_decide_item_within_30_days_or_1500_km(km: float, days: float,
                                                           need: bool) -> None:
    """An item due within 30 days or 1,500 km is a need, both limits inclusive."""
    item = ServiceItem("brake_fluid", km, days, "ok")
    found = decide(_call(items=[FAR, item]))
    assert (found is not None) == need
    if found is not None:
        assert found.due_items == ("brake_fluid",)


def test_maintenance_decide_fault_codes_are_a_need() -> None:
    """Fault codes alone make a need; they are reported sorted and once each."""
    need = decide(_call(faults=["P0420", "P0300", "P0420"]))
    assert need is not None
    assert (need.fault_codes, need.due_items, need.service, need.source_id) == (
        ("P0300", "P0420"), (), "teleservice", "c-1")


def test_maintenance_decide_service_need_reason_is_a_need() -> None:
    """The car calling for a service need is a need even without findings in the call."""
    need = decide(_call("service_need"))
    assert need is not None
    assert need.reason == "service_need"


def test_maintenance_decide_smart_transfer() -> None:
    """Smart Maintenance findings make needs the same way, tagged as such."""
    quiet = SmartMaintenanceTransfer(VIN, "s-1", "trip", 1.0, T0, 1, {"oil_level_pct": 90.0})
    assert decide(quiet) is None
    found = decide(SmartMaintenanceTransfer(VIN, "s-2", "weekly", 1.0, T0, 1, {},
                                            ["U0100"]))
    assert found is not None
    assert (found.service, found.reason, found.source_id) == (
        "smart_maintenance", "weekly", "s-2")


def test_maintenance_case_life_cycle_open_notified_closed() -> None:
    """open → notified → closed, each step stamped with its time and reason."""
    need = decide(_call(faults=["P0300"]))
    assert need is not None
    case = open_case(need, case_id="k-1", partner_id="sp-be-bru", now=T0)
    assert (case.status, case.opened_at, case.fault_codes) == ("open", T0, ("P0300",))
    case = notify(case, now=T0 + 60, via="email")
    assert (case.status, case.notified_at, case.notified_via) == ("notified", T0 + 60, "email")
    case = close(case, now=T0 + 3_600, reason="serviced")
    assert (case.status, case.closed_at, case.close_reason) == ("closed", T0 + 3_600, "serviced")


def test_maintenance_case_close_before_notified_is_refused() -> None:
    """A case cannot close before its need was communicated; the error names the rule."""
    need = decide(_call(faults=["P0300"]))
    assert need is not None
    case = open_case(need, case_id="k-2", partner_id="sp-be-bru", now=T0)
    with pytest.raises(CaseTransitionError) as caught:
        close(case, now=T0 + 1)
    assert str(caught.value) == (
        "case 'k-2' is open; it can be closed only after the need was communicated")
    assert caught.value.rule == (
        "close only from notified (MINI Connected §16a, TS-R5: determined and communicated)")


def test_maintenance_case_notify_twice_and_reopen_closed_are_refused() -> None:
    """Notify only from open; a closed case moves no more."""
    need = decide(_call(faults=["P0300"]))
    assert need is not None
    notified = notify(open_case(need, case_id="k-3", partner_id="p", now=T0), now=T0)
    with pytest.raises(CaseTransitionError, match="only an open case can be notified"):
        notify(notified, now=T0)
    closed = close(notified, now=T0)
    with pytest.raises(CaseTransitionError, match="is already closed"):
        close(closed, now=T0)
    with pytest.raises(CaseTransitionError) as caught:
        close(notified, now=T0, reason="lost")  # type: ignore[arg-type]  # unknown, on purpose
    assert caught.value.rule.startswith("procedures_completed|")


def test_maintenance_late_calls_flags_gaps_beyond_the_rhythm() -> None:
    """Gaps over 28 days or 1,000 km (plus slack) are late; in-rhythm calls are not."""
    day = 86_400.0
    calls = [
        CallRecord("a", "interval_28d", T0, 0.0),
        CallRecord("c", "interval_28d", T0 + 38 * day + 3_600, 1_500.0),  # within slack
        CallRecord("b", "distance_1000km", T0 + 10 * day, 1_000.0),  # any order
        CallRecord("d", "interval_28d", T0 + 70 * day, 1_600.0),
        CallRecord("e", "distance_1000km", T0 + 71 * day, 2_700.0),
    ]
    assert [c.call_id for c in late_calls(calls)] == ["d", "e"]


def test_maintenance_superseded_takes_old_calls_without_need_up_to_an_open_need() -> None:
    """TS-R5 for calls with no need: two call intervals (56 days) and no longer, but a
    call after a need still open stays with that need's cycle, so no gap opens."""
    day = 86_400.0
    held = [
        CallRecord("old", "interval_28d", T0, 0.0, need=False),
        CallRecord("need", "service_need", T0 + 20 * day, 700.0, need=True),
        CallRecord("after", "interval_28d", T0 + 30 * day, 900.0, need=False),
        CallRecord("first", "interval_28d", T0 - 28 * day, 0.0, need=False),  # any order
    ]
    assert superseded(held, newest_at=T0 + 56 * day - 1) == [held[3]]
    assert superseded(held, newest_at=T0 + 56 * day) == [held[3], held[0]]
    assert superseded(held, newest_at=T0 + 400 * day) == [held[3], held[0]]
    assert superseded(held[2:3], newest_at=T0 + 400 * day) == held[2:3]


def test_maintenance_call_record_from_before_the_need_field_reads_as_a_need() -> None:
    """A stored call without the field is kept until a case closes, as it was before."""
    record = CallRecord("c", "interval_28d", T0, 1.0, need=False)
    fields = {str(k).encode(): str(v).encode() for k, v in record.to_fields().items()
              if k != "need"}
    assert CallRecord.from_fields(fields).need is True
    assert CallRecord.from_fields({**fields, b"need": b"0"}).need is False
