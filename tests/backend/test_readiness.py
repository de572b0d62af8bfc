"""Readiness tells the truth: proofs per lane, parts of a worker, the supervisor's pipe."""

from __future__ import annotations

import os
import uuid

import pytest
from redis.asyncio import Redis

from backend.infra import keys
from backend.infra.readiness import LANE_STALE_S, LIVENESS_FD_ENV, Prover, lane_states, lanes_ready


def test_lane_states_need_a_fresh_proof_of_each_required_lane() -> None:
    """Ready means emergency, desks and services each proved within LANE_STALE_S."""
    now = 1_000.0
    live = {"emergency-1": now - 1, "desks-1": now - 1, "services-1": now - LANE_STALE_S + 0.5}
    assert lanes_ready(live, now=now)
    assert lane_states({**live, "services-1": now - LANE_STALE_S - 0.5}, now=now) == {
        "emergency": True, "desks": True, "services": False}
    assert not lanes_ready({"emergency-1": now, "desks-1": now}, now=now)


def test_lane_states_one_live_worker_of_a_lane_is_enough() -> None:
    """A dead worker's stale entry does not hide a live one of the same lane."""
    now = 50.0
    lanes = {"emergency-a": now - 60, "emergency-b": now, "desks-1": now, "services-1": now}
    assert lanes_ready(lanes, now=now)


def test_lane_states_a_proof_from_the_future_does_not_count() -> None:
    """A clock jump cannot keep a lane green: only proofs at or before now count."""
    assert not lane_states({"emergency-1": 200.0}, now=100.0,
                           required=("emergency",))["emergency"]


async def test_prover_waits_for_every_part_before_proving(redis_url: str) -> None:
    """A worker of two loops is ready only once both loops have proved themselves."""
    redis = Redis.from_url(redis_url)
    worker = uuid.uuid4().hex[:8]
    prover = Prover(redis, role="desks", worker_id=worker, parts=("psap", "callcentre"),
                    environ={}, min_interval_s=0.0)
    try:
        await prover.part("psap").prove()
        assert await redis.hget(keys.READY, f"desks-{worker}") is None
        await prover.part("callcentre").prove()
        assert await redis.hget(keys.READY, f"desks-{worker}") is not None
        assert prover.proofs == 1
    finally:
        await redis.hdel(keys.READY, f"desks-{worker}")
        await redis.aclose()


async def test_prover_unknown_part_is_refused(redis_url: str) -> None:
    """Naming a part the worker does not have is a programming error, said at once."""
    redis = Redis.from_url(redis_url)
    try:
        prover = Prover(redis, role="desks", worker_id="x", parts=("psap",), environ={})
        with pytest.raises(ValueError, match="callcentre"):
            prover.part("callcentre")
    finally:
        await redis.aclose()


def test_prover_alive_writes_a_byte_to_the_supervisor_pipe() -> None:
    """alive() reaches the supervisor even when Redis is not involved at all."""
    read_end, write_end = os.pipe()
    try:
        prover = Prover(Redis(), role="emergency", worker_id="1",
                        environ={LIVENESS_FD_ENV: str(write_end)})
        prover.alive()
        prover.alive()
        os.set_blocking(read_end, False)
        assert os.read(read_end, 16) == b".."
    finally:
        os.close(read_end)
        os.close(write_end)


def test_prover_alive_never_blocks_on_a_full_pipe() -> None:
    """A supervisor that stopped reading cannot stall a worker."""
    read_end, write_end = os.pipe()
    try:
        prover = Prover(Redis(), role="emergency", worker_id="1",
                        environ={LIVENESS_FD_ENV: str(write_end)})
        for _ in range(200_000):  # more than any pipe buffer holds
            prover.alive()
    finally:
        os.close(read_end)
        os.close(write_end)
