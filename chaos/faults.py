"""Injecting the faults: signals to backend roles, service restarts, a paused Redis.

What can be done depends on the stack: a run that started the platform itself knows
every role's pid (asking again each time, since a killed role comes back with a new one)
and can start Mosquitto and Redis (both instances, the OEM one and the PSAP domain's)
again on the same ports and data; against a stack
started elsewhere only the pids named with ``--pid`` can be signalled and the services
cannot be restarted. ``skip_reason`` says why a fault cannot run there, so it is
reported as skipped instead of passing silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.runtime.roles import Role
from chaos.errors import FaultError
from chaos.plan import FAULT_ROLE, FaultName

Kill = Callable[[int, int], None]
Restart = Callable[[], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultTarget:
    """Where faults land: the Redis to pause (the OEM one), role pids, and the restarts
    this run may do (``restart_redis`` restarts every Redis instance of the run)."""

    redis_url: str
    pid_of: Callable[[Role], int | None]
    restart_broker: Restart | None = None
    restart_redis: Restart | None = None
    kill_broker: Restart | None = None  # SIGKILL, then started again on the same data
    kill_redis: Restart | None = None


class FaultInjector:
    """Injects one fault at a time; ``inject`` returns when the fault is over."""

    def __init__(self, target: FaultTarget, *, kill: Kill = os.kill) -> None:
        self._target = target
        self._kill = kill

    def skip_reason(self, fault: FaultName) -> str | None:
        """None when the fault can be injected here, else why not."""
        role = FAULT_ROLE.get(fault)
        if role is not None:
            pid = self._target.pid_of(role)
            if pid is None:
                return f"no pid for the {role} role (name it with --pid {role}=PID)"
            try:
                self._kill(pid, 0)
            except ProcessLookupError:
                return f"pid {pid} of the {role} role is not running"
            except PermissionError:
                return f"not allowed to signal pid {pid} of the {role} role"
        if fault in ("broker_restart", "broker_kill") and self._restarts(fault) is None:
            return "the broker was not started by this run, so it cannot start it again"
        if fault in ("redis_restart", "redis_kill") and self._restarts(fault) is None:
            return "Redis was not started by this run, so it cannot start it again"
        return None

    def _restarts(self, fault: FaultName) -> Restart | None:
        return {"broker_restart": self._target.restart_broker,
                "redis_restart": self._target.restart_redis,
                "broker_kill": self._target.kill_broker,
                "redis_kill": self._target.kill_redis}.get(fault)

    async def inject(self, fault: FaultName, *, hold_s: float) -> None:
        """Inject ``fault``; a held one (SIGSTOP, paused Redis) lasts ``hold_s``."""
        match fault:
            case "kill_emergency" | "kill_desk":
                self._signal(FAULT_ROLE[fault], signal.SIGKILL)
            case "stall_desk" | "partition_lane":
                await self._stop_for(FAULT_ROLE[fault], hold_s)
            case "broker_restart" | "broker_kill":
                await self._restart(self._restarts(fault), "the broker")
            case "redis_restart" | "redis_kill":
                await self._restart(self._restarts(fault), "Redis")
            case "slow_redis":
                await self._pause_redis(hold_s)

    def _signal(self, role: Role, signum: int) -> int:
        pid = self._target.pid_of(role)
        if pid is None:
            raise FaultError(f"no pid for the {role} role")
        try:
            self._kill(pid, signum)
        except OSError as exc:
            raise FaultError(f"could not send {signal.Signals(signum).name} to the {role} "
                             f"role (pid {pid}): {exc}") from None
        return pid

    async def _stop_for(self, role: Role, hold_s: float) -> None:
        """SIGSTOP, then SIGCONT to the same pid if it is still there."""
        pid = self._signal(role, signal.SIGSTOP)
        try:
            await asyncio.sleep(hold_s)
        finally:
            with contextlib.suppress(ProcessLookupError):
                self._kill(pid, signal.SIGCONT)

    @staticmethod
    async def _restart(restart: Restart | None, what: str) -> None:
        if restart is None:
            raise FaultError(f"{what} cannot be restarted by this run")
        try:
            await asyncio.to_thread(restart)
        except Exception as exc:
            raise FaultError(f"restarting {what} failed: {exc}") from exc

    async def _pause_redis(self, hold_s: float) -> None:
        """``CLIENT PAUSE ms ALL``: every client's commands wait, as on a Redis that stalls."""
        redis = Redis.from_url(self._target.redis_url)
        try:
            await redis.client_pause(int(hold_s * 1000), all=True)
        except RedisError as exc:
            raise FaultError(f"Redis refused CLIENT PAUSE: {exc}") from None
        finally:
            await redis.aclose()
        await asyncio.sleep(hold_s)
