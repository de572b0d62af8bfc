"""Runs every backend role in its own process and restarts one that dies, hangs or goes deaf.

Process isolation is what keeps the eCall lane fast under bulk load on a small machine,
and a restarted emergency worker resumes its persistent MQTT session, so QoS 1 eCalls
that arrived while it was down are delivered to it then.

Each worker role gets the write end of a pipe (``TELEMATICS_LIVENESS_FD``) and writes a
byte whenever it has proved itself (``backend.infra.readiness``): its probe came back through
the broker, or its desk loop went round. A role silent for ``WATCHDOG_STALE_S`` (after
``WATCHDOG_GRACE_S`` from its start) is killed with SIGKILL and started again; that
covers a process that is stopped, stuck, or connected but deaf.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.infra import keys
from backend.infra.readiness import LIVENESS_FD_ENV
from backend.runtime.roles import ROLES, Role, settings_for
from backend.settings import BackendSettings

log = logging.getLogger(__name__)
RESTART_DELAY_S: Final = 0.5
RESTART_DELAY_MAX_S: Final = 30.0
# A role that ran this long before it died had worked; its next crash starts the backoff anew.
STABLE_RUN_S: Final = 60.0
STOP_GRACE_S: Final = 5.0
# Workers prove themselves about once a second; a start (codec and geocoder warm-up,
# broker and Redis connections) takes a few seconds, longer on a loaded machine.
WATCHDOG_STALE_S: Final = 8.0
WATCHDOG_GRACE_S: Final = 20.0
WATCHDOG_TICK_S: Final = 0.5
WATCHED: Final[frozenset[Role]] = frozenset({"emergency", "desks", "services", "bulk"})


def role_environment(settings: BackendSettings, base: Mapping[str, str], *,
                     role: Role | None = None) -> dict[str, str]:
    """The environment a role starts with: ``settings`` as ``TELEMATICS_*`` variables,
    for ``role`` without the PSAP credentials it has no use for (``settings_for``).
    It holds passwords: it is passed to the child, never logged."""
    env = dict(base)
    chosen = settings_for(role, settings) if role is not None else settings
    for name, value in chosen.model_dump().items():
        env[f"TELEMATICS_{name.upper()}"] = str(value)
    return env


def restart_delay(quick_exits: int) -> float:
    """How long to wait before starting a role again after ``quick_exits`` exits in a row,
    each soon after its start (pure): 0.5 s, doubling, at most 30 s. A role that cannot
    start (a wrong password, a broken setting) then costs a line every 30 s, not a
    traceback every half second, while one crash after a long run restarts at once."""
    return min(RESTART_DELAY_S * 2.0 ** max(quick_exits - 1, 0), RESTART_DELAY_MAX_S)


def silent_roles(started: Mapping[Role, float], last_alive: Mapping[Role, float], *,
                 now: float, stale_s: float, grace_s: float) -> list[Role]:
    """Watched roles past their start grace with no proof for ``stale_s`` (pure)."""
    silent: list[Role] = []
    for role, at in started.items():
        if role not in WATCHED or now - at < grace_s:
            continue
        last = max(last_alive.get(role, at), at + grace_s - stale_s)
        if now - last > stale_s:
            silent.append(role)
    return silent


class Supervisor:
    """Starts the roles as ``python -m backend ROLE`` and keeps them running until stopped."""

    def __init__(self, settings: BackendSettings, *, roles: Sequence[Role] = ROLES,
                 environ: Mapping[str, str] | None = None,
                 stale_s: float = WATCHDOG_STALE_S, grace_s: float = WATCHDOG_GRACE_S) -> None:
        self._stale_s = stale_s
        self._grace_s = grace_s
        self._settings = settings
        self._roles = list(roles)
        base = environ if environ is not None else os.environ
        self._envs = {role: role_environment(settings, base, role=role) for role in self._roles}
        self._procs: dict[Role, asyncio.subprocess.Process] = {}
        self.restarts: dict[Role, int] = dict.fromkeys(self._roles, 0)
        self.watchdog_kills: dict[Role, int] = dict.fromkeys(self._roles, 0)
        self._started: dict[Role, float] = {}
        self._last_alive: dict[Role, float] = {}
        self._pipes: dict[Role, int] = {}

    async def _spawn(self, role: Role) -> asyncio.subprocess.Process:
        if role not in WATCHED:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "backend", role,
                                                        env=self._envs[role])
        else:
            self._close_pipe(role)
            read_end, write_end = os.pipe()
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "backend", role, pass_fds=(write_end,),
                    env={**self._envs[role], LIVENESS_FD_ENV: str(write_end)})
            finally:
                os.close(write_end)
            os.set_blocking(read_end, False)
            self._pipes[role] = read_end
            asyncio.get_running_loop().add_reader(read_end, self._hear, role, read_end)
        self._procs[role] = proc
        self._started[role] = time.monotonic()
        log.info("started %s (pid %d)", role, proc.pid)
        return proc

    def _hear(self, role: Role, fd: int) -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._last_alive[role] = time.monotonic()
        else:  # the worker is gone; its successor gets a new pipe
            self._close_pipe(role)

    def _close_pipe(self, role: Role) -> None:
        fd = self._pipes.pop(role, None)
        if fd is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                asyncio.get_running_loop().remove_reader(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    async def _watchdog(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCHDOG_TICK_S)
            if stop.is_set():
                return
            for role in silent_roles(self._started, self._last_alive, now=time.monotonic(),
                                     stale_s=self._stale_s, grace_s=self._grace_s):
                proc = self._procs.get(role)
                if proc is None or proc.returncode is not None:
                    continue
                self.watchdog_kills[role] += 1
                log.error("%s (pid %d) has not proved itself for %.0f s (hung, stopped or "
                          "deaf to the broker); killing it to restart it", role, proc.pid,
                          self._stale_s)
                self._started[role] = time.monotonic()  # no second kill before the restart
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()

    async def _forget_proof(self, role: Role) -> None:
        """A dead worker's last proof must not keep ``/ready`` green while its successor
        starts: drop it now (best effort; Redis may be the thing that is down)."""
        if role not in WATCHED:
            return
        redis = Redis.from_url(self._settings.redis_url, db=self._settings.oem_db,
                               socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            await redis.hdel(keys.READY, f"{role}-{self._settings.worker_id}")
        except (RedisError, OSError) as exc:
            log.info("could not drop %s's readiness proof (%s)", role, type(exc).__name__)
        finally:
            await redis.aclose()

    async def _watch(self, role: Role, stop: asyncio.Event) -> None:
        proc = await self._spawn(role)
        quick_exits = 0
        while True:
            code = await proc.wait()
            if stop.is_set():
                return
            self.restarts[role] += 1
            ran = time.monotonic() - self._started[role]
            quick_exits = quick_exits + 1 if ran < STABLE_RUN_S else 1
            delay = restart_delay(quick_exits)
            log.error("%s exited with %s after %.1f s%s; restarting in %.1f s", role, code, ran,
                      f" ({quick_exits} times in a row)" if quick_exits > 1 else "", delay)
            await self._forget_proof(role)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return
            proc = await self._spawn(role)

    async def run(self, stop: asyncio.Event) -> None:
        watchers = [asyncio.create_task(self._watch(r, stop), name=f"watch-{r}")
                    for r in self._roles]
        watchers.append(asyncio.create_task(self._watchdog(stop), name="watchdog"))
        await stop.wait()
        for proc in self._procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs.values():
            try:
                await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        for role in list(self._pipes):
            self._close_pipe(role)

    def pid_of(self, role: Role) -> int | None:
        proc = self._procs.get(role)
        return proc.pid if proc is not None else None
