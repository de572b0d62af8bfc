"""The checks against a stand-in API: only this run's records count, a deletion is judged
by its phase and the audit, a storage scan's hits decide ``stored``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx

from vehicle_sim.checks.counts import check_count
from vehicle_sim.checks.deletion import check_deletion
from vehicle_sim.checks.stored import check_stored
from vehicle_sim.checks.timed_calls import check_calls
from vehicle_sim.checks.view import CarView, RunView
from vehicle_sim.scenario_checks import CallsDef, CountDef, DeletionDef, StoredDef

START = datetime(2026, 7, 15, 10, tzinfo=UTC).timestamp()
DUE = datetime(2027, 1, 15, 10, tzinfo=UTC).timestamp()
INCIDENT = "000001-hv-abc"


def _client(routes: dict[str, Any]) -> httpx.AsyncClient:
    """An API that answers each path from ``routes`` (a body, or None for 404)."""
    def answer(request: httpx.Request) -> httpx.Response:
        key = request.url.path + (f"?{request.url.query.decode()}"
                                  if request.url.path == "/retention/storage" else "")
        body = routes.get(key)
        return httpx.Response(404, json={}) if body is None else httpx.Response(200, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://api")


def _view(now: float, **car: Any) -> RunView:
    return RunView(cars={"a": CarView(vin="V1", position=(0.0, 0.0), **car),
                         "b": CarView(vin="V2", position=(0.0, 0.0))},
                   fleet_calls={"F1": frozenset({"f1"})}, start=START, now=now)


async def test_checks_counts_take_only_this_runs_records() -> None:
    client = _client({
        "/desks/psap-BE/incidents": {"data": [{"incident": INCIDENT}, {"incident": "old"}]},
        "/vehicles/V1/teleservice-calls": {"data": [{"call_id": "c1"}, {"call_id": "old"}]},
        "/vehicles/V2/teleservice-calls": {"data": []},
        "/vehicles/F1/teleservice-calls": {"data": [{"call_id": "f1"}]},
        "/budgets/V1": {"services": [{"key": "smart_maintenance", "total_msgs": 2},
                                     {"key": "teleservice_call", "total_msgs": 5}]}})
    view = _view(START, incidents=frozenset({INCIDENT}), call_ids=frozenset({"c1"}))
    one = await check_count(client, CountDef(of="incidents", desk="psap-BE", exactly=1),
                            view, timeout_s=0)
    assert one.ok and one.reason == "1 incidents at psap-BE of the run"
    calls = await check_count(client, CountDef(of="teleservice_calls", exactly=2), view,
                              timeout_s=0)
    assert calls.ok, calls.reason  # c1 and the fleet's f1, not "old"
    none = await check_count(client, CountDef(of="smart_maintenance", vehicle="b", exactly=0),
                             view, timeout_s=0)
    assert none.ok  # V2 never metered: 404 is no transfer
    wrong = await check_count(client, CountDef(of="smart_maintenance", vehicle="a",
                                               at_most=1), view, timeout_s=0)
    assert (wrong.ok, wrong.reason) == (False, "2 smart maintenance of a, expected at most 1")


async def test_checks_deletion_by_phase_and_audit() -> None:
    expect = DeletionDef(record="hv_case", vehicle="a", held_until=date(2027, 1, 14),
                         gone_by=date(2027, 1, 16))
    held = _client({f"/desks/callcentre/incidents/{INCIDENT}": {"incident": INCIDENT,
                                                                "delete_after": DUE}})
    on_14th = datetime(2027, 1, 14, 20, tzinfo=UTC).timestamp()
    view = _view(on_14th, incidents=frozenset({INCIDENT}))
    assert (await check_deletion(held, expect, view, timeout_s=0)).ok
    early = _client({f"/desks/callcentre/incidents/{INCIDENT}": {"incident": INCIDENT,
                                                                 "delete_after": DUE - 4 * 86_400}})
    verdict = await check_deletion(early, expect, view, timeout_s=0)
    assert not verdict.ok and "outside" in verdict.reason
    audit = {"data": [{"record_type": "hv_warn_case", "deadline": repr(DUE),
                       "deleted_at": repr(DUE + 60)}]}
    gone = _client({"/retention/audit": audit})
    on_16th = datetime(2027, 1, 16, tzinfo=UTC).timestamp()
    verdict = await check_deletion(gone, expect, _view(on_16th, incidents=frozenset({INCIDENT})),
                                   timeout_s=0)
    assert verdict.ok and verdict.reason.startswith("1 hv_case gone on day 184.6"), verdict
    gone_early = await check_deletion(gone, expect, view, timeout_s=0)
    assert not gone_early.ok and "already gone" in gone_early.reason
    unaudited = _client({"/retention/audit": {"data": []}})
    late = await check_deletion(unaudited, expect,
                                _view(on_16th, incidents=frozenset({INCIDENT})), timeout_s=0)
    assert not late.ok and "0 audited deletions of hv_warn_case" in late.reason
    nothing = await check_deletion(unaudited, expect, _view(on_16th), timeout_s=0)
    assert (nothing.ok, nothing.reason) == (False, "a made no hv_case in this run")


async def test_checks_stored_follows_the_scan() -> None:
    hits = {"hits": [{"key": f"cc:case:{INCIDENT}", "type": "hash", "where": ["key"]}]}
    scan = f"/retention/storage?contains={INCIDENT}"
    view = _view(START, incidents=frozenset({INCIDENT}))
    found = _client({scan: hits})
    assert (await check_stored(found, StoredDef(incident_of="a", present=True), view,
                               timeout_s=0)).reason == f"stored in cc:case:{INCIDENT}"
    left = await check_stored(found, StoredDef(incident_of="a", present=False), view,
                              timeout_s=0)
    assert (left.ok, left.reason) == (False, f"still stored in cc:case:{INCIDENT}")
    refused = await check_stored(_client({}), StoredDef(incident_of="a", present=False), view,
                                 timeout_s=0)
    assert not refused.ok


async def test_checks_stored_scans_for_each_msd_the_car_sent_by_its_bytes() -> None:
    msd = "0324101a01c614a2873c52ab"
    view = _view(START, msds=frozenset({msd}))
    clean = _client({f"/retention/storage?hex={msd}": {"hits": []}})
    verdict = await check_stored(clean, StoredDef(msd_of="a", present=False), view,
                                 timeout_s=0)
    assert verdict.ok and verdict.reason == f"nothing of MSD {msd[:16]}... stored", verdict
    kept = _client({f"/retention/storage?hex={msd}": {"hits": [{"key": "cc:case:x"}]}})
    assert not (await check_stored(kept, StoredDef(msd_of="a", present=False), view,
                                   timeout_s=0)).ok
    none_sent = await check_stored(clean, StoredDef(msd_of="b", present=False), view,
                                   timeout_s=0)
    assert not none_sent.ok


async def test_checks_timed_calls_read_the_backends_times() -> None:
    day = 86_400.0
    client = _client({"/vehicles/V1/teleservice-calls": {"data": [
        {"call_id": "c2", "reason": "distance_1000km", "at": START + 30 * day,
         "odometer_km": 13_310.0},
        {"call_id": "c1", "reason": "interval_28d", "at": START + 28 * day,
         "odometer_km": 12_300.0},
        {"call_id": "old", "reason": "service_need", "at": START, "odometer_km": 0.0}]}})
    view = _view(START, call_ids=frozenset({"c1", "c2"}))
    expect = CallsDef.model_validate({"vehicle": "a", "teleservice_calls": [
        {"reason": "interval_28d", "day": 28}, {"reason": "distance_1000km",
                                                "odometer_km": 13_300}]})
    verdict = await check_calls(client, expect, view, timeout_s=0)
    assert verdict.ok and verdict.reason == ("interval_28d on day 28.0 at 12300 km, "
                                             "distance_1000km on day 30.0 at 13310 km")
