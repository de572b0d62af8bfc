"""Runs every backend role in its own process and restarts one that dies, hangs or goes deaf.

Process isolation is what keeps the eCall lane fast under bulk load on a small machine,
and a restarted emergency worker resumes its persistent MQTT session, so QoS 1 eCalls
that arrived while it was down are delivered to it then.

Each worker role gets the write end of a pipe (``TELEMATICS_LIVENESS_FD``) and writes a
byte whenever it has proved itself (``backend.infra.readiness``): its probe came back through
the broker, or its desk loop went round. A role silent for ``WATCHDOG_STALE_S`` (after
``WATCHDOG_GRACE_S`` from its start) is killed with SIGKILL and started again; that
covers a process that is stopped, stuck, or connected but deaf. A worker still waiting
for its broker says so down the same pipe (``WAITING_BYTE``): it is not hung, a restart
would not bring the broker back, and it already said which broker it cannot reach.

A role that keeps crashing (``GIVE_UP_CRASHES`` exits within ``GIVE_UP_WINDOW_S``) is given
up: the supervisor says so in one line with the cause (the last line of the role's own
error output, which for a Python crash is the exception) and stops every role, so that
``telematics backend run`` and ``telematics up`` exit non-zero instead of restarting a
broken role forever.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.infra import keys
from backend.infra.readiness import LIVENESS_FD_ENV, WAITING_BYTE
from backend.runtime.roles import ROLES, Role, settings_for
from backend.settings import BackendSettings

log = logging.getLogger(__name__)
RESTART_DELAY_S: Final = 0.5
RESTART_DELAY_MAX_S: Final = 30.0
# A role that ran this long before it died had worked; its next crash starts the backoff anew.
STABLE_RUN_S: Final = 60.0
STOP_GRACE_S: Final = 5.0
ERROR_LINES_KEPT: Final = 40
RELAY_CHUNK: Final = 1 << 16
# Workers prove themselves about once a second; a start (codec and geocoder warm-up,
# broker and Redis connections) takes a few seconds, longer on a loaded machine.
WATCHDOG_STALE_S: Final = 8.0
WATCHDOG_GRACE_S: Final = 20.0
WATCHDOG_TICK_S: Final = 0.5
WATCHED: Final[frozenset[Role]] = frozenset({"emergency", "desks", "services", "bulk"})
# Five exits in five minutes: with the backoff that is a role that never lasted, not one
# that met a passing outage (those run for minutes between crashes).
GIVE_UP_CRASHES: Final = 5
GIVE_UP_WINDOW_S: Final = 300.0


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


def gives_up(exits: Sequence[float], *, now: float, crashes: int = GIVE_UP_CRASHES,
             window_s: float = GIVE_UP_WINDOW_S) -> bool:
    """Whether a role that exited at the monotonic times ``exits`` is to be given up (pure):
    ``crashes`` of them within the last ``window_s``."""
    return sum(1 for at in exits if now - at <= window_s) >= crashes


def cause_of(lines: Iterable[str]) -> str:
    """The cause a crashed role's error output names (pure): its last unindented line,
    which ends a Python traceback with the exception (``ValueError: ...``); indented lines
    after it (pydantic's details, notes) belong to it. Empty when nothing was said."""
    cause = ""
    for line in lines:
        if line.strip() and not line[:1].isspace():
            cause = line.strip()
    return cause


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
                 stale_s: float = WATCHDOG_STALE_S, grace_s: float = WATCHDOG_GRACE_S,
                 give_up_crashes: int = GIVE_UP_CRASHES,
                 give_up_window_s: float = GIVE_UP_WINDOW_S) -> None:
        self._stale_s = stale_s
        self._give_up = (give_up_crashes, give_up_window_s)
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
        # Roles whose last word down the liveness pipe was "waiting for my broker".
        self.waiting_for_broker: set[Role] = set()
        self._last_error_lines: dict[Role, list[str]] = {}
        self._relays: dict[Role, asyncio.Task[None]] = {}
        # The role given up, and the one line that said why; None while all run.
        self.given_up: tuple[Role, str] | None = None

    async def _spawn(self, role: Role) -> asyncio.subprocess.Process:
        command = (sys.executable, "-m", "backend", role)
        if role not in WATCHED:
            proc = await asyncio.create_subprocess_exec(*command, env=self._envs[role],
                                                        stderr=asyncio.subprocess.PIPE)
        else:
            self._close_pipe(role)
            self.waiting_for_broker.discard(role)
            read_end, write_end = os.pipe()
            try:
                proc = await asyncio.create_subprocess_exec(
                    *command, pass_fds=(write_end,), stderr=asyncio.subprocess.PIPE,
                    env={**self._envs[role], LIVENESS_FD_ENV: str(write_end)})
            finally:
                os.close(write_end)
            os.set_blocking(read_end, False)
            self._pipes[role] = read_end
            asyncio.get_running_loop().add_reader(read_end, self._hear, role, read_end)
        self._procs[role] = proc
        self._started[role] = time.monotonic()
        assert proc.stderr is not None
        self._relays[role] = asyncio.create_task(self._relay_errors(role, proc.stderr),
                                                 name=f"stderr-{role}")
        log.info("started %s (pid %d)", role, proc.pid)
        return proc

    async def _relay_errors(self, role: Role, stream: asyncio.StreamReader) -> None:
        """Pass the role's error output on, whole lines at a time so that two roles' lines
        never interleave, keeping the last lines: the cause said when the role is given up.
        Read in chunks: a line longer than the reader's limit must not stop the relay (the
        role would then block on a full pipe)."""
        lines = self._last_error_lines[role] = []
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        tail = ""
        while True:
            chunk = await stream.read(RELAY_CHUNK)
            text = tail + decoder.decode(chunk, final=not chunk)
            if not chunk:
                complete, tail = ([text] if text else []), ""
            else:
                *complete, tail = text.split("\n")
                if len(tail) >= RELAY_CHUNK:  # no line end in sight: pass it on as it is
                    complete, tail = [*complete, tail], ""
            if complete:
                sys.stderr.write("".join(f"{line}\n" for line in complete))
                sys.stderr.flush()
                lines.extend(complete)
                del lines[:-ERROR_LINES_KEPT]
            if not chunk:
                return

    def _hear(self, role: Role, fd: int) -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._last_alive[role] = time.monotonic()
            # The last byte is the worker's latest word: waiting for its broker, or working.
            waiting = data[-1:] == WAITING_BYTE
            if waiting and role not in self.waiting_for_broker:
                log.info("%s is waiting for its broker; the watchdog lets it wait", role)
            (self.waiting_for_broker.add if waiting else self.waiting_for_broker.discard)(role)
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
        exits: list[float] = []
        while True:
            code = await proc.wait()
            relay = self._relays.pop(role, None)
            if relay is not None:
                await relay  # the error output is read to its end once the process is gone
            if stop.is_set():
                return
            now = time.monotonic()
            ran = now - self._started[role]
            exits.append(now)
            crashes, window_s = self._give_up
            if gives_up(exits, now=now, crashes=crashes, window_s=window_s):
                cause = cause_of(self._last_error_lines.get(role, [])) or f"exit code {code}"
                line = (f"{role} crashed {crashes} times within {window_s:.0f} s; giving up "
                        f"and stopping the backend. Last cause: {cause}")
                log.critical("%s", line)
                self.given_up = (role, line)
                stop.set()
                return
            self.restarts[role] += 1
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
        await asyncio.gather(*watchers, *self._relays.values(), return_exceptions=True)
        for role in list(self._pipes):
            self._close_pipe(role)

    def started_at(self, role: Role) -> float:
        """When ``role``'s current process was started (monotonic), or 0.0 before that."""
        return self._started.get(role, 0.0)

    def pid_of(self, role: Role) -> int | None:
        proc = self._procs.get(role)
        return proc.pid if proc is not None else None
