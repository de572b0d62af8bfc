"""Metering in a real Redis: atomic counting, rejections, flags, periods and pruning."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import cast

import pytest
from redis.asyncio import Redis

from backend.privacy.budget_meter import Verdict
from backend.privacy.budget_store import (
    FLAGGED,
    REJECTED,
    count_refused,
    known_vins,
    meter,
    once_key_prefix,
    summary,
    usage,
    vin_key,
)
from backend.privacy.errors import UnknownVehicleError
from protocols.catalogue_model import DAY, CatalogueError
from tests.backend.support import new_vin, own_database
from tests.backend.test_budget_meter import (
    CHARGE,
    DIGITAL_KEY,
    ECALL,
    GB,
    HV_WARN,
    ROADSIDE,
    RSU,
    TELESERVICE,
    TRAFFIC_CAMERA,
    WORKSHOP_MAP,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z; a day boundary (T0 / DAY is whole)
YEAR = 365 * DAY
CATALOGUE = (CHARGE, DIGITAL_KEY, ECALL, HV_WARN, ROADSIDE, RSU, TELESERVICE, TRAFFIC_CAMERA,
             WORKSHOP_MAP)


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    async with own_database(redis_url, 8) as redis:
        yield redis


async def _fields(oem: Redis, vin: str) -> set[str]:
    return {k.decode() for k in cast(list[bytes], await oem.hkeys(vin_key(vin)))}


async def test_budget_store_rejected_message_is_counted_and_adds_nothing(oem: Redis) -> None:
    """A Teleservice call over 50 KB is rejected, counted per vehicle and fleet-wide."""
    vin = new_vin()
    ok = await meter(oem, vin=vin, service="teleservice_call", size=50_000, at=T0,
                     direction="up", entry=TELESERVICE)
    refused = await meter(oem, vin=vin, service="teleservice_call", size=50_001, at=T0 + 1,
                          direction="up", entry=TELESERVICE)
    assert ok.accepted and not refused.accepted
    assert (refused.reason, refused.field, refused.used_after) == (
        "message_over_budget", "per_message_bytes", 50_000)
    row = (await usage(oem, vin, at=T0 + 2, catalogue=CATALOGUE))["teleservice_call"]
    assert (row.used_bytes, row.used_msgs, row.total_bytes, row.total_msgs) == (
        50_000, 1, 50_000, 1)
    assert row.rejected == {"message_over_budget": 1}
    assert await oem.hget(REJECTED, "teleservice_call:message_over_budget") == b"1"
    fleet = (await summary(oem, at=T0 + 2, catalogue=CATALOGUE))["teleservice_call"]
    assert (fleet.rejected, fleet.total_bytes, fleet.vehicles) == (
        {"message_over_budget": 1}, 50_000, 1)


async def test_budget_store_period_sum_is_bounded(oem: Redis) -> None:
    """Charge Management "< 50 KB per day": the third 20 KB message of a day is refused."""
    vin = new_vin()
    verdicts = [await meter(oem, vin=vin, service="charge_management", size=20_000,
                            at=T0 + i, direction="up", entry=CHARGE) for i in range(3)]
    assert [v.accepted for v in verdicts] == [True, True, False]
    assert verdicts[2].reason == "period_over_budget"
    row = (await usage(oem, vin, at=T0 + 10, catalogue=CATALOGUE))["charge_management"]
    assert (row.used_bytes, row.rejected) == (40_000, {"period_over_budget": 1})
    assert row.share_used == pytest.approx(0.8)


async def test_budget_store_exclusive_and_inclusive_bound_at_the_limit(oem: Redis) -> None:
    """Reaching exactly 50,000 B of "< 50 KB per day" is over; 5 MB of "max 5 MB" is not."""
    vin = new_vin()
    assert (await meter(oem, vin=vin, service="charge_management", size=49_999, at=T0,
                        direction="up", entry=CHARGE)).accepted
    assert not (await meter(oem, vin=vin, service="charge_management", size=1, at=T0,
                            direction="down", entry=CHARGE)).accepted
    assert (await meter(oem, vin=vin, service="traffic_camera", size=5_000_000, at=T0,
                        direction="down", entry=TRAFFIC_CAMERA)).accepted
    assert not (await meter(oem, vin=vin, service="traffic_camera", size=1, at=T0,
                            direction="down", entry=TRAFFIC_CAMERA)).accepted


async def test_budget_store_directions_share_the_period_budget(oem: Redis) -> None:
    """Uplink and downlink are counted apart but judged together against the period."""
    vin = new_vin()
    await meter(oem, vin=vin, service="charge_management", size=30_000, at=T0,
                direction="up", entry=CHARGE)
    refused = await meter(oem, vin=vin, service="charge_management", size=20_000, at=T0,
                          direction="down", entry=CHARGE)
    await meter(oem, vin=vin, service="charge_management", size=10_000, at=T0,
                direction="down", entry=CHARGE)
    assert refused.reason == "period_over_budget"
    row = (await usage(oem, vin, at=T0, catalogue=CATALOGUE))["charge_management"]
    assert (row.up_bytes, row.up_msgs, row.down_bytes, row.down_msgs, row.used_bytes) == (
        30_000, 1, 10_000, 1, 40_000)


async def test_budget_store_safety_call_over_budget_is_flagged(oem: Redis) -> None:
    """An eCall of 2 KB and an HV warn call of 30 KB go through, counted and flagged."""
    vin = new_vin()
    ecall = await meter(oem, vin=vin, service="ecall_intelligent", size=2_000, at=T0,
                        direction="up", entry=ECALL)
    hv = await meter(oem, vin=vin, service="hv_warn_call", size=30_000, at=T0,
                     direction="up", entry=HV_WARN)
    small = await meter(oem, vin=vin, service="ecall_intelligent", size=900, at=T0,
                        direction="up", entry=ECALL)
    assert (ecall.accepted, ecall.flagged, hv.accepted, hv.flagged) == (True, True, True, True)
    assert (small.accepted, small.flagged) == (True, False)
    rows = await usage(oem, vin, at=T0, catalogue=CATALOGUE)
    assert (rows["ecall_intelligent"].used_bytes, rows["ecall_intelligent"].used_msgs) == (
        2_900, 2)
    assert rows["ecall_intelligent"].flagged == {"message_over_budget": 1}
    assert rows["ecall_intelligent"].rejected == {}
    assert rows["hv_warn_call"].flagged == {"message_over_budget": 1}
    assert await oem.hget(FLAGGED, "hv_warn_call:message_over_budget") == b"1"
    assert await oem.hlen(REJECTED) == 0


async def test_budget_store_workshop_map_six_a_year_and_approx_never_rejects(
        oem: Redis) -> None:
    """6 × 200 KB in a year is within the nominal figure; 8 more are reported, never dropped."""
    vin = new_vin()
    at = [T0 + i * YEAR / 14 for i in range(14)]  # all inside one 365-day period
    verdicts = [await meter(oem, vin=vin, service="workshop_map", size=200_000, at=t,
                            direction="down", entry=WORKSHOP_MAP) for t in at]
    assert all(v.accepted for v in verdicts)
    assert [v.flagged for v in verdicts] == [False] * 6 + [True] * 8
    row = (await usage(oem, vin, at=at[-1], catalogue=CATALOGUE))["workshop_map"]
    assert (row.used_bytes, row.used_msgs, row.flagged) == (2_800_000, 14, {"over_nominal": 8})
    assert row.share_used == pytest.approx(2_800_000 / 1_200_000)


async def test_budget_store_ota_download_accounted(oem: Redis) -> None:
    """RSU downloads of 1 and 10 GB count in full (downlink); 11 GB is rejected."""
    vin = new_vin()
    one = await meter(oem, vin=vin, service="rsu", size=1 * GB, at=T0, direction="down",
                      entry=RSU)
    ten = await meter(oem, vin=vin, service="rsu", size=10 * GB, at=T0 + 60, direction="down",
                      entry=RSU)
    eleven = await meter(oem, vin=vin, service="rsu", size=11 * GB, at=T0 + 120,
                         direction="down", entry=RSU)
    assert (one.accepted, ten.accepted, eleven.accepted) == (True, True, False)
    row = (await usage(oem, vin, at=T0 + 180, catalogue=CATALOGUE))["rsu"]
    assert (row.down_bytes, row.up_bytes, row.total_bytes, row.total_msgs) == (
        11 * GB, 0, 11 * GB, 2)
    assert row.rejected == {"message_over_budget": 1}
    assert row.share_used is None  # no period bound: nothing to share against


async def test_budget_store_new_period_resets_usage_and_prunes(oem: Redis) -> None:
    """A new day starts from zero; only this and the previous day are kept per service."""
    vin = new_vin()
    for day in range(4):
        verdict = await meter(oem, vin=vin, service="charge_management", size=49_000,
                              at=T0 + day * DAY + 5, direction="up", entry=CHARGE)
        assert verdict.accepted and verdict.used_after == 49_000
    row = (await usage(oem, vin, at=T0 + 3 * DAY + 6, catalogue=CATALOGUE))["charge_management"]
    assert (row.used_bytes, row.previous_bytes, row.total_bytes, row.total_msgs) == (
        49_000, 49_000, 4 * 49_000, 4)
    first = int(T0 // DAY)
    fields = await _fields(oem, vin)
    periods = {f.split(":")[2] for f in fields if f.split(":")[1] in ("up", "down")}
    assert periods == {str(first + 2), str(first + 3)}
    # Read later with no new message: the current day is empty, the last one "previous".
    later = (await usage(oem, vin, at=T0 + 4 * DAY, catalogue=CATALOGUE))["charge_management"]
    assert (later.used_bytes, later.previous_bytes) == (0, 49_000)


async def test_budget_store_a_message_offered_again_is_metered_once(oem: Redis) -> None:
    """A call run again under its id (a retry after Redis lost the reply) counts once and
    gets its first verdict back; a refusal stays a refusal counted once."""
    vin = new_vin()

    async def call(size: int, call_id: str) -> Verdict:
        return await meter(oem, vin=vin, service="teleservice_call", size=size, at=T0,
                           direction="up", entry=TELESERVICE, message_id=call_id)

    first = await call(40_000, "c-1")
    assert [await call(40_000, "c-1") for _ in range(3)] == [first] * 3
    refused = await call(60_000, "c-2")
    assert await call(60_000, "c-2") == refused
    other_bytes = await call(1_000, "c-1")  # another size: other bytes on the air
    row = (await usage(oem, vin, at=T0, catalogue=CATALOGUE))["teleservice_call"]
    assert (row.total_msgs, row.total_bytes, row.rejected) == (
        2, 41_000, {"message_over_budget": 1})
    assert other_bytes.used_after == 41_000


async def test_budget_store_a_repeat_keeps_the_first_verdict_under_a_period_bound(
        oem: Redis) -> None:
    """Under "< 50 KB per day", a repeat of an accepted message is not refused though the
    day is full now, and adds nothing to it."""
    vin = new_vin()
    kept = await meter(oem, vin=vin, service="charge_management", size=30_000, at=T0,
                       direction="up", entry=CHARGE, message_id="m-1")
    await meter(oem, vin=vin, service="charge_management", size=19_000, at=T0,
                direction="up", entry=CHARGE, message_id="m-2")
    again = await meter(oem, vin=vin, service="charge_management", size=30_000, at=T0,
                        direction="up", entry=CHARGE, message_id="m-1")
    assert again == kept and again.accepted
    row = (await usage(oem, vin, at=T0, catalogue=CATALOGUE))["charge_management"]
    assert (row.used_bytes, row.used_msgs) == (49_000, 2)


async def test_budget_store_once_marks_go_with_their_period(oem: Redis) -> None:
    """The marks of a day are dropped with its counts, two days on; a vehicle's marks do
    not grow without bound."""
    vin = new_vin()
    first = int(T0 // DAY)
    for day in range(3):
        await meter(oem, vin=vin, service="charge_management", size=1_000,
                    at=T0 + day * DAY, direction="up", entry=CHARGE, message_id=f"m-{day}")
    prefix = once_key_prefix(vin, "charge_management")
    held = [await oem.exists(f"{prefix}{first + day}") for day in range(3)]
    assert held == [0, 1, 1]


async def test_budget_store_clock_going_back_restarts_the_window(oem: Redis) -> None:
    """A scenario restarting virtual time meters in its own period; stale ones are dropped."""
    vin = new_vin()
    await meter(oem, vin=vin, service="charge_management", size=40_000, at=T0 + 10 * DAY,
                direction="up", entry=CHARGE)
    back = await meter(oem, vin=vin, service="charge_management", size=40_000, at=T0,
                       direction="up", entry=CHARGE)
    assert back.accepted and back.used_after == 40_000
    fields = await _fields(oem, vin)
    assert not any(f":{int(T0 // DAY) + 10}:" in f for f in fields)


async def test_budget_store_late_message_counts_in_the_previous_period(oem: Redis) -> None:
    """A message stamped just before the boundary lands in its own (previous) day."""
    vin = new_vin()
    await meter(oem, vin=vin, service="charge_management", size=1_000, at=T0 + DAY,
                direction="up", entry=CHARGE)
    late = await meter(oem, vin=vin, service="charge_management", size=2_000, at=T0 + DAY - 1,
                       direction="up", entry=CHARGE)
    assert late.used_after == 2_000
    row = (await usage(oem, vin, at=T0 + DAY, catalogue=CATALOGUE))["charge_management"]
    assert (row.used_bytes, row.previous_bytes) == (1_000, 2_000)


async def test_budget_store_concurrent_meters_count_exactly(oem: Redis) -> None:
    """90 concurrent 1 KB messages against "< 50 KB per day": exactly 49 get through.

    90 stays under the client's default pool of 100 connections, which bounds how many
    commands one client has in flight at once.
    """
    vin = new_vin()
    verdicts = await asyncio.gather(*(
        meter(oem, vin=vin, service="charge_management", size=1_000, at=T0 + i % 60,
              direction="up" if i % 2 else "down", entry=CHARGE) for i in range(90)))
    assert sum(v.accepted for v in verdicts) == 49
    assert sorted(v.used_after for v in verdicts if v.accepted) == [
        1_000 * n for n in range(1, 50)]
    row = (await usage(oem, vin, at=T0 + 60, catalogue=CATALOGUE))["charge_management"]
    assert (row.used_bytes, row.used_msgs, row.rejected) == (
        49_000, 49, {"period_over_budget": 41})
    unbounded = await asyncio.gather(*(
        meter(oem, vin=vin, service="teleservice_call", size=1_234, at=T0, direction="up",
              entry=TELESERVICE) for _ in range(90)))
    assert all(v.accepted for v in unbounded)
    tele = (await usage(oem, vin, at=T0, catalogue=CATALOGUE))["teleservice_call"]
    assert (tele.total_bytes, tele.total_msgs) == (90 * 1_234, 90)


async def test_budget_store_lifetime_budget_never_resets(oem: Redis) -> None:
    """Digital Key "up to 5 MB per vehicle" sums over the vehicle's life, years apart."""
    vin = new_vin()
    assert (await meter(oem, vin=vin, service="digital_key", size=3_000_000, at=T0,
                        direction="down", entry=DIGITAL_KEY)).accepted
    later = await meter(oem, vin=vin, service="digital_key", size=3_000_000, at=T0 + 5 * YEAR,
                        direction="down", entry=DIGITAL_KEY)
    assert (later.accepted, later.reason) == (False, "period_over_budget")
    row = (await usage(oem, vin, at=T0 + 5 * YEAR, catalogue=CATALOGUE))["digital_key"]
    assert (row.used_bytes, row.period_start, row.period_end) == (3_000_000, None, None)


async def test_budget_store_fleet_summary(oem: Redis) -> None:
    """Fleet usage sums vehicles; its share is against every using vehicle's budget."""
    a, b = new_vin(), new_vin()
    for vin, size in ((a, 10_000), (b, 30_000)):
        await meter(oem, vin=vin, service="charge_management", size=size, at=T0,
                    direction="up", entry=CHARGE)
    await meter(oem, vin=b, service="teleservice_call", size=60_000, at=T0, direction="up",
                entry=TELESERVICE)
    fleet = await summary(oem, at=T0, catalogue=CATALOGUE)
    charge = fleet["charge_management"]
    assert (charge.used_bytes, charge.vehicles) == (40_000, 2)
    assert charge.share_used == pytest.approx(40_000 / 100_000)
    assert fleet["teleservice_call"].rejected == {"message_over_budget": 1}
    assert fleet["teleservice_call"].vehicles == 0  # rejected bytes are no usage
    assert set(fleet) == {e.key for e in CATALOGUE}
    assert await known_vins(oem) == sorted([a, b])


async def test_budget_store_usage_lists_every_budget(oem: Redis) -> None:
    """A vehicle's usage lists each budgeted service, zero where it sent nothing."""
    vin = new_vin()
    await meter(oem, vin=vin, service="teleservice_call", size=100, at=T0, direction="up",
                entry=TELESERVICE)
    rows = await usage(oem, vin, at=T0, catalogue=CATALOGUE)
    assert set(rows) == {e.key for e in CATALOGUE}
    assert (rows["roadside_assistance"].used_bytes, rows["roadside_assistance"].per_message_bytes,
            rows["roadside_assistance"].exclusive) == (0, 50_000, True)


async def test_budget_store_refuses_bad_input(oem: Redis) -> None:
    """Unknown VINs, malformed VINs, mismatched entries and unknown services are named."""
    with pytest.raises(UnknownVehicleError, match="no message of this vehicle"):
        await usage(oem, new_vin(), at=T0, catalogue=CATALOGUE)
    with pytest.raises(ValueError, match="vin"):
        await meter(oem, vin="not-a-vin", service="rsu", size=1, at=T0, direction="up",
                    entry=RSU)
    with pytest.raises(ValueError, match="direction"):
        await meter(oem, vin=new_vin(), service="rsu", size=1, at=T0,
                    direction="sideways", entry=RSU)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="does not match"):
        await meter(oem, vin=new_vin(), service="teleservice_call", size=1, at=T0,
                    direction="up", entry=RSU)
    with pytest.raises(CatalogueError, match="no_such_service"):
        await meter(oem, vin=new_vin(), service="no_such_service", size=1, at=T0,
                    direction="up")
    assert await oem.scard("bud:vins") == 0


async def test_budget_store_against_the_catalogue_rows(oem: Redis) -> None:
    """With the entries looked up in ``protocols.catalogue``: the issue's three accounts.

    RSU "1–10 GB per download", workshop map "~200 KB, ~6 times a year", Teleservice
    "max 50 KB per service/maintenance request" (row ``teleservice_call``, TS-R2).
    """
    vin = new_vin()

    async def send(service: str, size: int, at: float) -> bool:
        verdict = await meter(oem, vin=vin, service=service, size=size, at=at,
                              direction="down" if service != "teleservice_call" else "up")
        assert not verdict.flagged, verdict.explanation
        return verdict.accepted

    assert [await send("rsu", size, T0) for size in (1 * GB, 10 * GB, 11 * GB)] == [
        True, True, False]
    assert all([await send("workshop_map", 200_000, T0 + i * YEAR / 7) for i in range(6)])
    assert [await send("teleservice_call", size, T0) for size in (50_000, 50_000, 50_001)] == [
        True, True, False]
    rows = await usage(oem, vin, at=T0 + YEAR / 2)
    assert (rows["rsu"].total_bytes, rows["workshop_map"].used_bytes,
            rows["teleservice_call"].total_bytes) == (11 * GB, 1_200_000, 100_000)


async def test_budget_store_counts_a_refusal_made_before_metering(oem: Redis) -> None:
    """A message refused unread counts as a rejection of its service, for the vehicle and
    the fleet, moves no bytes, and counts once however often the same bytes come."""
    vin = new_vin()
    counted = [await count_refused(oem, vin=vin, service="teleservice_call",
                                   reason="message_over_budget", message=b"x" * 60_000)
               for _ in range(2)]
    assert counted == [True, False]
    assert await count_refused(oem, vin=vin, service="teleservice_call",
                               reason="message_over_budget", message=b"y" * 60_000)
    assert vin in await known_vins(oem)
    row = (await usage(oem, vin, at=T0, catalogue=CATALOGUE))["teleservice_call"]
    assert (row.rejected, row.used_bytes, row.total_msgs) == ({"message_over_budget": 2}, 0, 0)
    fleet = (await summary(oem, at=T0, catalogue=CATALOGUE))["teleservice_call"]
    assert (fleet.rejected, fleet.vehicles) == ({"message_over_budget": 2}, 0)
    with pytest.raises(ValueError):
        await count_refused(oem, vin="not-a-vin", service="teleservice_call",
                            reason="message_over_budget", message=b"x")
