"""The fleet's wear against the real services lane and retention store (Redis): needs
open cases, the serviced cases are closed, and what the backend still holds of each car's
Teleservice calls is what the TS-R5 reading lets it keep, nothing more and nothing less."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend.infra.counters import Counters
from backend.privacy.retention_store import sweep
from backend.services.lane import ServicesDesk
from backend.services.maintenance_store import calls_of, close_case
from protocols.clock import ClockState, pack_clock_state
from tests.backend.support import own_database
from vehicle_sim.fleet_driver import FleetDriver
from vehicle_sim.scenario import FleetDef

START = 1_767_600_000.0  # 2026-01-05T08:00Z
DAY = 86_400.0
DB = 12  # this module's own database


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    async with own_database(redis_url, DB) as client:
        yield client


async def test_fleet_wear_cycles_are_closed_and_deleted_as_the_reading_says(
        oem: Redis) -> None:
    sent: list[tuple[str, bytes]] = []
    driver = FleetDriver(FleetDef(count=16, seed=13, countries=["BE", "NL"]), start=START,
                         mqtt_url="mqtt://127.0.0.1:1", notify=lambda _m: None)
    for car in driver.cars:
        car._publish = lambda topic, payload: sent.append((topic, payload))
    desk = ServicesDesk(oem, publish=lambda _t, _p: None, counters=Counters())
    closed = 0
    for day in range(1, 151):
        now = START + day * DAY
        driver.advance_to(now)
        desk.clock.hear(pack_clock_state(ClockState(
            virtual_anchor=now, real_anchor_ns=time.time_ns(), scale=0.0, seq=day, run="t")))
        for topic, payload in sent:
            await desk.handle(topic, payload)
        sent.clear()
        for case_id, waiting in list(driver.desk.waiting.items()):  # the partner's desk
            case = await close_case(oem, case_id, now=now, reason="serviced")
            assert case.closed_at is not None
            driver.desk.closures.setdefault(waiting.vin, []).append(case.closed_at)
            del driver.desk.waiting[case_id]
            closed += 1
        await sweep(oem, now=now)
    kept = driver.kept()
    made = held = 0
    for car in driver.cars:
        stored = {c.call_id for c in await calls_of(oem, car.vin)}
        assert stored == kept[car.vin], car.vin
        made, held = made + len(car.call_ids), held + len(stored)
    assert closed >= 8 and driver.visits >= 8
    assert held < made / 2  # most calls are gone: with their cases, or superseded
