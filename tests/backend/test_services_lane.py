"""The services lane: the workshop map decision is one step, message times are checked,
and a message handled again is metered once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.infra import keys
from backend.infra.counters import Counters
from backend.privacy.budget_store import usage
from backend.privacy.retention_store import read_tag
from backend.services import lane
from backend.services.lane import (
    MAX_AGE_S,
    MAX_AHEAD_S,
    ServicesDesk,
    check_message_time,
    map_sent_key,
)
from protocols.errors import EnvelopeError
from protocols.size_bounds import within
from protocols.teleservice import TELESERVICE_BOUND, TeleserviceCall, packed
from protocols.topics import parse_topic, rejected_topic, teleservice_call_topic
from tests.backend.support import new_vin, own_database
from tests.fakes.broker import FakeBroker

DB = 13  # this module's own database: the desk writes cases and budgets


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    async with own_database(redis_url, DB) as client:
        yield client


def test_check_message_time_window_around_the_backend_clock() -> None:
    """400 days back and a day ahead are accepted; a moment beyond either is refused."""
    now = 1_800_000_000.0
    check_message_time(now - MAX_AGE_S, now=now)
    check_message_time(now + MAX_AHEAD_S, now=now)
    for at in (now - MAX_AGE_S - 1, now + MAX_AHEAD_S + 1, 0.0):
        with pytest.raises(EnvelopeError) as refused:
            check_message_time(at, now=now)
        assert refused.value.field == "at"


async def test_services_lane_sends_one_workshop_map_for_concurrent_first_calls(
        oem: Redis) -> None:
    """Ten first calls of one car handled at once send the map once, not once each."""
    sent: list[str] = []
    desk = ServicesDesk(oem, publish=lambda topic, _p: sent.append(topic), counters=Counters())
    vin, now = new_vin(), time.time()
    calls = [TeleserviceCall(vin, f"c-{i}", "interval_28d", 100.0 * i, time.time_ns(), now + i,
                             "bev") for i in range(10)]
    await asyncio.gather(*(desk.handle(teleservice_call_topic(vin), packed(call))
                           for call in calls))
    maps = [t for t in sent if parse_topic(t).kind == "workshop_map"]
    assert len(maps) == 1


async def test_services_lane_refuses_a_call_from_far_outside_the_clock(oem: Redis) -> None:
    """A call dated a year and a half ago is refused by field and rule, and stores nothing."""
    counters, sent = Counters(), FakeBroker()
    desk = ServicesDesk(oem, publish=sent.publish, counters=counters)
    vin = new_vin()
    call = TeleserviceCall(vin, "old", "interval_28d", 10.0, time.time_ns(),
                           time.time() - 550 * 86_400, "bev")
    await desk.handle(teleservice_call_topic(vin), packed(call))
    errors = counters.totals[keys.ERROR_COUNTERS]
    assert [name for name in errors if name.startswith("at:")] == [
        "at:within 400 days before and 1 day after the backend's clock"]
    assert await oem.keys(f"*{vin}*") == []
    # The car is told which call, and the same field and rule.
    [(topic, rejection)] = sent.rejections()
    assert (topic, rejection.message_id, rejection.field, rejection.rule) == (
        rejected_topic(vin), "old", "at", lane.TIME_WINDOW_RULE)


async def test_services_lane_meters_a_call_handled_twice_once(oem: Redis) -> None:
    """A call handled again (a redelivery, or the lane's retry after Redis lost a reply)
    is one call on the vehicle's budget."""
    desk = ServicesDesk(oem, publish=lambda _t, _p: None, counters=Counters())
    vin, now = new_vin(), time.time()
    payload = packed(TeleserviceCall(vin, "c-1", "interval_28d", 10.0, time.time_ns(), now,
                                     "bev"))
    for _ in range(3):
        await desk.handle(teleservice_call_topic(vin), payload)
    row = (await usage(oem, vin, at=now))["teleservice_call"]
    assert (row.total_msgs, row.total_bytes) == (1, len(payload))


@pytest.mark.parametrize("failing", ["meter", "tag_if_new"])
async def test_services_lane_a_call_run_again_finishes_its_own_workshop_map(
        oem: Redis, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    """Redis failing once after the map was claimed (metering it, or tagging its record)
    makes the lane run the call again; that run finishes the call's own claim: the map
    goes out, is metered once, and its record is tagged."""
    real = getattr(lane, failing)
    failures = [RedisConnectionError("reply lost")]

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("service") == "workshop_map" and failures:
            raise failures.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(lane, failing, flaky)
    sent: list[str] = []
    desk = ServicesDesk(oem, publish=lambda topic, _p: sent.append(topic), counters=Counters())
    vin, now = new_vin(), time.time()
    await desk.handle(teleservice_call_topic(vin), packed(TeleserviceCall(
        vin, "c-1", "interval_28d", 10.0, time.time_ns(), now, "bev")))
    assert failures == []  # the failure did happen
    assert [parse_topic(t).kind for t in sent][-1] == "workshop_map"
    assert (await usage(oem, vin, at=now))["workshop_map"].total_msgs == 1
    assert await read_tag(oem, map_sent_key(vin)) is not None


def _oversized_call(vin: str) -> bytes:
    """A Teleservice call over its 50 KB, which the decoder refuses unread."""
    call = TeleserviceCall(vin, "big", "service_need", 10.0, time.time_ns(), time.time(), "bev",
                           fault_codes=[f"P{i:05d}" for i in range(10_000)])
    raw = packed(call)
    assert not within(TELESERVICE_BOUND, len(raw))
    return raw


async def test_services_lane_counts_a_call_refused_unread_for_its_size_once(
        oem: Redis) -> None:
    """The refusal before the meter reaches the budget view, with the bound it broke, and a
    redelivery of the same bytes does not count it again."""
    counters = Counters()
    desk = ServicesDesk(oem, publish=lambda _t, _p: None, counters=counters)
    vin = new_vin()
    raw = _oversized_call(vin)
    for _ in range(2):
        await desk.handle(teleservice_call_topic(vin), raw)
    row = (await usage(oem, vin, at=time.time()))["teleservice_call"]
    assert (row.rejected, row.total_msgs, row.total_bytes) == ({"message_over_budget": 1}, 0, 0)
    assert counters.totals[keys.ERROR_COUNTERS] == {
        f"teleservice_call:{TELESERVICE_BOUND.rule}": 2}
