"""Runs every backend role in its own process and restarts one that dies.

Process isolation is what keeps the eCall lane fast under bulk load on a small machine,
and a restarted emergency worker resumes its persistent MQTT session, so QoS 1 eCalls
that arrived while it was down are delivered to it then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Final

from backend.roles import ROLES, Role
from backend.settings import BackendSettings

log = logging.getLogger(__name__)
RESTART_DELAY_S: Final = 0.5
STOP_GRACE_S: Final = 5.0


def role_environment(settings: BackendSettings, base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    for name, value in settings.model_dump().items():
        env[f"TELEMATICS_{name.upper()}"] = str(value)
    return env


class Supervisor:
    """Starts the roles as ``python -m backend ROLE`` and keeps them running until stopped."""

    def __init__(self, settings: BackendSettings, *, roles: Sequence[Role] = ROLES,
                 environ: Mapping[str, str] | None = None) -> None:
        self._settings = settings
        self._roles = list(roles)
        self._env = role_environment(settings, environ if environ is not None else os.environ)
        self._procs: dict[Role, asyncio.subprocess.Process] = {}
        self.restarts: dict[Role, int] = dict.fromkeys(self._roles, 0)

    async def _spawn(self, role: Role) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "backend", role,
                                                    env=self._env)
        self._procs[role] = proc
        log.info("started %s (pid %d)", role, proc.pid)
        return proc

    async def _watch(self, role: Role, stop: asyncio.Event) -> None:
        proc = await self._spawn(role)
        while True:
            code = await proc.wait()
            if stop.is_set():
                return
            self.restarts[role] += 1
            log.error("%s exited with %s; restarting", role, code)
            await asyncio.sleep(RESTART_DELAY_S)
            proc = await self._spawn(role)

    async def run(self, stop: asyncio.Event) -> None:
        watchers = [asyncio.create_task(self._watch(r, stop), name=f"watch-{r}")
                    for r in self._roles]
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

    def pid_of(self, role: Role) -> int | None:
        proc = self._procs.get(role)
        return proc.pid if proc is not None else None
