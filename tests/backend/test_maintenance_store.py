"""Maintenance cases and received calls in a real Redis (OEM database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import cast

import pytest
from redis.asyncio import Redis

from backend.privacy.retention_store import audit, read_tag, sweep
from backend.services.errors import CaseTransitionError, UnknownCaseError
from backend.services.maintenance import Case, MaintenanceNeed, Service, late_calls
from backend.services.maintenance_store import (
    calls_of,
    case_key,
    cases_of,
    close_case,
    mark_notified,
    open_case,
    read_case,
    receive,
    supersede,
)
from protocols.teleservice import ServiceItem, SmartMaintenanceTransfer, TeleserviceCall
from tests.backend.support import new_vin, own_database

T0 = 1_767_225_600.0
DAY = 86_400.0


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, db=0)
    yield client
    await client.aclose()


def _ids() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:10]
    return f"case-{tag}", f"sp-test-{tag}"


def _need(vin: str, service: Service = "teleservice") -> MaintenanceNeed:
    return MaintenanceNeed(vin, "c-1", service, "service_need", ("P0300",),
                           ("brake_fluid",), 12_000.0, T0)


async def test_maintenance_store_open_case_is_tagged(oem: Redis) -> None:
    """A new case is its record, tagged with its catalogue entry's rule when written; the
    rule lives in the tag only."""
    case_id, partner = _ids()
    case = await open_case(oem, _need(new_vin()), case_id=case_id, partner_id=partner, now=T0)
    stored = cast(dict[bytes, bytes], await oem.hgetall(case_key(case_id)))
    assert Case.from_fields(stored) == case
    assert (case.service, case.opened_at, case.status, case.closed_at) == (
        "teleservice", T0, "open", None)
    assert b"retention_rule" not in stored
    tag = await read_tag(oem, case_key(case_id))
    assert tag is not None
    assert (tag.service, tag.rule.kind, tag.written_at) == ("teleservice_call", "until_closed", T0)
    assert await oem.zscore(f"sp:partner:{partner}:cases", case_id) == T0


async def test_maintenance_store_open_case_twice_keeps_the_first(oem: Redis) -> None:
    """Opening a case id again returns the stored case and indexes it once."""
    case_id, partner = _ids()
    vin = new_vin()
    first = await open_case(oem, _need(vin), case_id=case_id, partner_id=partner, now=T0)
    again = await open_case(oem, _need(vin, "smart_maintenance"), case_id=case_id,
                            partner_id=partner, now=T0 + 5)
    assert again == first
    assert [c.case_id for c in await cases_of(oem, partner)] == [case_id]


async def test_maintenance_store_close_only_after_notified(oem: Redis) -> None:
    """Closing an open case is refused; after notification it closes with closed_at."""
    case_id, partner = _ids()
    await open_case(oem, _need(new_vin()), case_id=case_id, partner_id=partner, now=T0)
    with pytest.raises(CaseTransitionError, match="only after the need was communicated"):
        await close_case(oem, case_id, now=T0 + 1)
    assert (await read_case(oem, case_id)).status == "open"
    notified = await mark_notified(oem, case_id, now=T0 + 2, via="email")
    assert (notified.status, notified.notified_at) == ("notified", T0 + 2)
    closed = await close_case(oem, case_id, now=T0 + 3, reason="serviced")
    stored = await read_case(oem, case_id)
    assert stored == closed
    assert (stored.status, stored.closed_at, stored.close_reason, stored.notified_via) == (
        "closed", T0 + 3, "serviced", "email")
    tag = await read_tag(oem, case_key(case_id))
    assert tag is not None and tag.closed_at == T0 + 3


async def test_maintenance_store_unknown_or_foreign_case(oem: Redis) -> None:
    """An unknown case, or another partner's, is an UnknownCaseError."""
    case_id, partner = _ids()
    with pytest.raises(UnknownCaseError, match=f"no case '{case_id}'"):
        await read_case(oem, case_id)
    with pytest.raises(UnknownCaseError):
        await mark_notified(oem, case_id, now=T0)
    await open_case(oem, _need(new_vin()), case_id=case_id, partner_id=partner, now=T0)
    await mark_notified(oem, case_id, now=T0)
    with pytest.raises(UnknownCaseError, match="at partner 'sp-other'"):
        await close_case(oem, case_id, now=T0, partner_id="sp-other")
    assert (await read_case(oem, case_id, partner_id=partner)).status == "notified"


async def test_maintenance_store_cases_of_newest_first(oem: Redis) -> None:
    """A partner's cases come newest first, with their findings."""
    _, partner = _ids()
    ids = [f"{partner}-{n}" for n in range(3)]
    for n, case_id in enumerate(ids):
        await open_case(oem, _need(new_vin()), case_id=case_id, partner_id=partner,
                        now=T0 + n)
    listed = await cases_of(oem, partner)
    assert [c.case_id for c in listed] == ids[::-1]
    assert listed[0].fault_codes == ("P0300",)
    assert listed[0].due_items == ("brake_fluid",)


async def test_maintenance_store_receive_records_every_call(oem: Redis) -> None:
    """Every Teleservice call is kept for the rhythm; only a need opens a case."""
    vin = new_vin()
    _, partner = _ids()
    quiet = TeleserviceCall(vin, "c-1", "interval_28d", 1_000.0, 1, T0, "bev",
                            [], [ServiceItem("brake_fluid", 20_000.0, 400.0, "ok")])
    assert await receive(oem, quiet, partner_id=partner, now=T0) is None
    faulty = TeleserviceCall(vin, "c-2", "service_need", 1_400.0, 1, T0 + 5 * DAY, "bev",
                             ["P0A80"])
    case = await receive(oem, faulty, partner_id=partner, now=T0 + 5 * DAY)
    assert case is not None
    assert (case.case_id, case.service, case.vin) == (f"{vin}-c-2", "teleservice", vin)
    smart = SmartMaintenanceTransfer(vin, "s-1", "weekly", 3_000.0, T0 + 50 * DAY, 1)
    assert await receive(oem, smart, partner_id=partner, now=T0 + 50 * DAY) is None
    calls = await calls_of(oem, vin)
    assert [(c.call_id, c.reason, c.at) for c in calls] == [
        ("c-2", "service_need", T0 + 5 * DAY), ("c-1", "interval_28d", T0)]
    late = TeleserviceCall(vin, "c-3", "interval_28d", 1_500.0, 1, T0 + 40 * DAY, "bev")
    assert await receive(oem, late, partner_id=partner, now=T0 + 40 * DAY) is None
    assert [c.call_id for c in late_calls(await calls_of(oem, vin))] == ["c-3"]
    assert [c.case_id for c in await cases_of(oem, partner)] == [f"{vin}-c-2"]


@pytest.fixture
async def own_oem(redis_url: str) -> AsyncIterator[Redis]:
    async with own_database(redis_url, 10) as redis:
        yield redis


async def test_maintenance_store_cycle_is_kept_until_its_case_closes(own_oem: Redis) -> None:
    """Calls build up until a need's case closes; then the case and that cycle's calls go."""
    oem = own_oem
    vin = new_vin()
    _, partner = _ids()
    first = TeleserviceCall(vin, "c-1", "interval_28d", 1_000.0, 1, T0, "bev")
    need = TeleserviceCall(vin, "c-2", "service_need", 1_400.0, 1, T0 + 5 * DAY, "bev",
                           ["P0A80"])
    await receive(oem, first, partner_id=partner, now=T0)
    case = await receive(oem, need, partner_id=partner, now=T0 + 5 * DAY)
    assert case is not None
    assert await sweep(oem, now=T0 + 400 * DAY) == 0  # open procedures: nothing is due
    await mark_notified(oem, case.case_id, now=T0 + 6 * DAY)
    await close_case(oem, case.case_id, now=T0 + 9 * DAY)
    later = TeleserviceCall(vin, "c-3", "interval_28d", 2_000.0, 1, T0 + 30 * DAY, "bev")
    await receive(oem, later, partner_id=partner, now=T0 + 30 * DAY)
    assert await sweep(oem, now=T0 + 9 * DAY) == 3
    assert [c.call_id for c in await calls_of(oem, vin)] == ["c-3"]
    assert await oem.exists(case_key(case.case_id)) == 0
    assert await oem.zscore(f"sp:partner:{partner}:cases", case.case_id) is None


async def test_maintenance_store_calls_without_need_go_two_intervals_later(
        own_oem: Redis) -> None:
    """TS-R5 reading: a call that shows no need is closed once a call 56 days later
    arrives, and deleted on that day; calls from a need still open on stay."""
    oem = own_oem
    vin = new_vin()
    _, partner = _ids()

    def call(call_id: str, day: float, faults: list[str] | None = None) -> TeleserviceCall:
        return TeleserviceCall(vin, call_id, "service_need" if faults else "interval_28d",
                               1_000.0 + day, 1, T0 + day * DAY, "bev", faults or [])

    for call_id, day in (("c-1", 0), ("c-2", 28), ("c-3", 56)):
        assert await receive(oem, call(call_id, day), partner_id=partner,
                             now=T0 + day * DAY) is None
    assert [c.call_id for c in await calls_of(oem, vin)] == ["c-3", "c-2"]  # c-1 gone at once
    (entry,) = await audit(oem)
    assert (float(entry["deadline"]), float(entry["deleted_at"])) == (T0 + 56 * DAY,) * 2
    case = await receive(oem, call("n-1", 60, ["P0A80"]), partner_id=partner,
                         now=T0 + 60 * DAY)
    assert case is not None
    for call_id, day in (("c-4", 88), ("c-5", 200)):
        await receive(oem, call(call_id, day), partner_id=partner, now=T0 + day * DAY)
    assert await sweep(oem, now=T0 + 200 * DAY) == 0  # c-2, c-3 went; the need's cycle stays
    assert len(await audit(oem)) == 3
    assert [c.call_id for c in await calls_of(oem, vin)] == ["c-5", "c-4", "n-1"]
    assert late_calls(await calls_of(oem, vin)) == [
        c for c in await calls_of(oem, vin) if c.call_id == "c-5"]
    assert await supersede(oem, call("c-0", -100), received_at=T0) == 0  # nothing after it


async def test_maintenance_store_superseded_calls_start_their_clock_on_receipt(
        own_oem: Redis) -> None:
    """A call the lane handles days late closes what it supersedes then, not back at its
    own time, so the deletion is not overdue the moment it is decided."""
    oem = own_oem
    vin = new_vin()
    _, partner = _ids()
    old = TeleserviceCall(vin, "c-1", "interval_28d", 1_000.0, 1, T0, "bev")
    new = TeleserviceCall(vin, "c-2", "interval_28d", 2_000.0, 1, T0 + 60 * DAY, "bev")
    await receive(oem, old, partner_id=partner, now=T0)
    await receive(oem, new, partner_id=partner, now=new.at, received_at=T0 + 67 * DAY)
    assert await read_tag(oem, f"sp:call:{vin}:c-1") is None
    (entry,) = await audit(oem)
    assert (float(entry["deadline"]), float(entry["deleted_at"])) == (T0 + 67 * DAY,) * 2
