"""Readiness that tells the truth: a lane is ready only while it keeps proving its path.

An MQTT lane proves itself when its own probe came back through the broker on its own
session (``backend.infra.mqtt_link.LaneLink``) and Redis took the record of it; a desk proves
itself each time its consume loop goes round with Redis answering. A proof is written
to ``lanes:ready`` (``{role}-{worker}`` → wall time) for ``/ready`` and ``telematics up``.
Separately, when the supervisor started the worker, the worker says it is alive (its
broker path works, its loop goes round) with one byte down the liveness pipe handed
over in ``TELEMATICS_LIVENESS_FD``: a worker that hangs or goes deaf is restarted, but a
Redis outage, which a restart cannot mend, does not make the supervisor kill anyone.

A heartbeat on a timer, as before, proved only that a process was alive: the lanes
stayed "ready" while deaf to the broker after its restart.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.infra import keys

log = logging.getLogger(__name__)

# A lane counts as ready while its last proof is younger than this. Probes go every
# second (``mqtt_link.PROBE_INTERVAL_S``), desk loops prove about twice a second: a deaf
# or stalled lane turns red within 3 s, after two missed proofs.
LANE_STALE_S: Final = 3.0
# The lanes safety and service calls need; bulk telemetry may lag without harm.
REQUIRED_LANES: Final = ("emergency", "desks", "services")
LIVENESS_FD_ENV: Final = "TELEMATICS_LIVENESS_FD"
# What a worker sends down the liveness pipe while it waits for its broker (a proof is
# ``b"."``): alive, not hung, and not to be killed, since a restart would not bring the
# broker back.
WAITING_BYTE: Final = b"w"
PROOF_BYTE: Final = b"."


def lane_states(lanes: Mapping[str, float], *, now: float,
                required: tuple[str, ...] = REQUIRED_LANES) -> dict[str, bool]:
    """Per required lane: has any of its workers proved itself within ``LANE_STALE_S``?"""
    return {lane: any(name.startswith(f"{lane}-") and 0 <= now - at <= LANE_STALE_S
                      for name, at in lanes.items()) for lane in required}


def lanes_ready(lanes: Mapping[str, float], *, now: float) -> bool:
    """Every lane that safety and service calls need has a fresh proof."""
    return all(lane_states(lanes, now=now).values())


class Prover:
    """Records a worker's proofs: in Redis for readiness, down the pipe for the supervisor.

    A worker made of several loops (the desks role runs the PSAP desks and the call
    centre) names them in ``parts``: it proves itself only once every part has.
    """

    def __init__(self, redis: Redis, *, role: str, worker_id: str,
                 parts: tuple[str, ...] = ("",), environ: Mapping[str, str] | None = None,
                 min_interval_s: float = 0.5) -> None:
        self._redis = redis
        self._field = f"{role}-{worker_id}"
        env = os.environ if environ is None else environ
        fd = env.get(LIVENESS_FD_ENV, "")
        self._fd: int | None = int(fd) if fd.isdigit() else None
        if self._fd is not None:
            try:  # a full pipe must never block the worker
                os.set_blocking(self._fd, False)
            except OSError:
                self._fd = None
        self._parts = frozenset(parts)
        self._alive: set[str] = set()
        self._proved: set[str] = set()
        self._min_interval_s = min_interval_s
        self._last = 0.0
        self.proofs = 0

    async def prove(self, part: str = "") -> None:
        """``part`` works end to end: tell the supervisor, record it in Redis for readiness.

        Throttled, so a busy desk loop costs one Redis write per interval."""
        self.alive(part)
        self._proved.add(part)
        now = time.monotonic()
        if self._proved < self._parts or now - self._last < self._min_interval_s:
            return
        self._proved.clear()
        self._last = now
        try:
            await self._redis.hset(keys.READY, self._field, repr(time.time()))
        except (RedisError, OSError) as exc:
            log.warning("readiness: Redis did not take the proof (%s)", type(exc).__name__)
            return
        self.proofs += 1

    async def withdraw(self) -> None:
        """The worker lost its path (its broker connection dropped): readiness goes red at
        once, and the next proof is written as soon as it comes."""
        self._proved.clear()
        self._last = 0.0
        try:
            await self._redis.hdel(keys.READY, self._field)
        except (RedisError, OSError) as exc:
            log.info("readiness: could not withdraw the proof (%s)", type(exc).__name__)

    def alive(self, part: str = "") -> None:
        """``part`` is not hung; once every part is, one byte to the supervisor."""
        self._alive.add(part)
        if self._alive < self._parts:
            return
        self._alive.clear()
        self._tell(PROOF_BYTE)

    def waiting(self) -> None:
        """The worker is waiting for its broker (``mqtt_link.connect``): alive, not hung."""
        self._tell(WAITING_BYTE)

    def _tell(self, byte: bytes) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, byte)
        except BlockingIOError:  # the supervisor has enough bytes unread already
            pass
        except OSError:  # the supervisor is gone; nobody to tell
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def part(self, name: str) -> PartProver:
        """The proof handle one loop of the worker holds."""
        if name not in self._parts:
            raise ValueError(f"{name!r} is not one of this worker's parts {sorted(self._parts)}")
        return PartProver(self, name)


@dataclass(frozen=True, slots=True)
class PartProver:
    """One loop's view of its worker's ``Prover``."""

    prover: Prover
    name: str

    async def prove(self) -> None:
        await self.prover.prove(self.name)

    def alive(self) -> None:
        self.prover.alive(self.name)


async def lane_proofs(redis: Redis) -> dict[str, float]:
    """Each worker's last proof (``{role}-{worker}`` → wall time), as readiness reads them."""
    raw = cast(dict[bytes, bytes], await redis.hgetall(keys.READY))
    return {k.decode(): float(v) for k, v in raw.items()}
