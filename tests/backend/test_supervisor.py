"""The supervisor restarts a worker that dies, and one that hangs without dying."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

from backend.runtime.roles import Role
from backend.runtime.supervisor import (
    RESTART_DELAY_MAX_S,
    RESTART_DELAY_S,
    Supervisor,
    restart_delay,
    silent_roles,
)
from cli.local_services import LocalServices
from tests.backend.support import Lanes, signer


async def _new_pid(supervisor: Supervisor, old: int, *, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while (pid := supervisor.pid_of("emergency")) in (None, old):
        assert time.monotonic() < deadline, "the worker was not restarted"
        await asyncio.sleep(0.05)
    assert pid is not None
    return pid


def test_a_role_that_keeps_dying_at_start_is_restarted_ever_more_slowly() -> None:
    delays = [restart_delay(n) for n in range(1, 10)]
    assert delays[0] == RESTART_DELAY_S
    assert delays == sorted(delays) and delays[1] == 2 * delays[0]
    assert delays[-1] == RESTART_DELAY_MAX_S


def test_supervisor_silent_roles_wait_for_the_start_grace() -> None:
    """A role that never proved itself is silent only once its start grace is over."""
    started: dict[Role, float] = {"emergency": 100.0, "api": 100.0}

    def silent(now: float, alive: dict[Role, float]) -> list[Role]:
        return silent_roles(started, alive, now=now, stale_s=2.0, grace_s=5.0)

    assert silent(104.0, {}) == []
    assert silent(106.0, {}) == ["emergency"]  # the API is not watched
    assert silent(106.0, {"emergency": 105.5}) == []
    assert silent(107.6, {"emergency": 105.5}) == ["emergency"]


async def test_supervisor_restarts_a_stopped_emergency_worker(
        fresh_services: LocalServices) -> None:
    """SIGSTOP (a hang that never exits): the watchdog kills and restarts the worker,
    which proves itself again."""
    settings = signer().settings(mqtt_url=fresh_services.urls.mqtt_url,
                                 **fresh_services.urls.redis_fields(),
                               worker_id=uuid.uuid4().hex[:8])
    supervisor = Supervisor(settings, roles=("emergency",), stale_s=2.0, grace_s=8.0)
    stop = asyncio.Event()
    running = asyncio.create_task(supervisor.run(stop))
    lanes = Lanes(settings)
    try:
        await lanes.wait_ready("emergency", timeout_s=20)
        first = supervisor.pid_of("emergency")
        assert first is not None
        os.kill(first, signal.SIGSTOP)
        second = await _new_pid(supervisor, first, timeout_s=20)
        stopped_at = time.time()
        await lanes.wait_ready("emergency", since=stopped_at, timeout_s=20)
        assert supervisor.watchdog_kills["emergency"] == 1
        assert second != first
    finally:
        stop.set()
        await running
