"""Time as both sides of the wire agree on it: real for latency, virtual for scenarios.

Every rule of the platform is about days, months and kilometres, so all logic takes a
clock instead of reading one. A scenario runs on a virtual clock that can run faster
than real time (``scale``) or jump ("advance 28 days"); in scenario mode the backend
follows the same virtual time, so "six months later the record is gone" is a test that
runs in seconds. Latency is always measured on the real clock (``sent_ns``).

Virtual time is announced as a ``ClockState``: a virtual instant, the real instant
(``time.time_ns()``) at which it held, and the rate since. Wall-clock nanoseconds
rather than a monotonic counter are the real anchor because another process on the
same host must be able to evaluate the state; monotonic clocks are per process. Every
change bumps ``seq``, so a follower can drop an announcement that arrives late.

Virtual time never runs backwards: jumps are forward only and a real clock that steps
back (an NTP correction) holds virtual time at the anchor instead of rewinding it.
Nothing here reads a clock at import; ``RealClock`` and the default of ``VirtualClock``
are the only places that read wall time at all.

Names, each for one thing: a ``Clock`` is anything that tells the time (``now()``);
``RealClock`` is wall time; a ``VirtualClock`` is scenario time, which the scenario
runner leads and each backend process follows with a clock of its own (the backend's
``FollowingClock``); a ``ClockState`` is a *clock announcement*, virtual time as it goes
on the wire (``CLOCK_TOPIC``, kind ``clock``). Where code needs only the time, it takes
a ``Clock`` or, in the car, the bound ``now`` of one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final, Protocol

from protocols.errors import EnvelopeError, ProtocolError
from protocols.record_codec import FieldTypes, pack_record, unpack_record

NS_PER_S: Final = 1_000_000_000
INSTANT_FORMS: Final = "ISO 8601 like 2026-03-01, 2026-03-01T08:00 (UTC) or 2026-03-01T08:00+01:00"
FORWARD_RULE: Final = "virtual time never runs backwards"


class Clock(Protocol):
    """Anything that tells the time as epoch seconds (UTC)."""

    def now(self) -> float: ...


class RealClock:
    """Wall time: what latency is measured on and what production runs on."""

    def now(self) -> float:
        return time.time()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockState:
    """Virtual time on the wire: ``virtual_anchor`` held at real ``real_anchor_ns``.

    ``scale`` is virtual seconds per real second; 0 freezes virtual time (a scenario
    that only moves by jumps). ``seq`` grows on every change of the state; ``run``
    names the leader, so a follower adopts a new scenario run that numbers from 0 again.
    """

    virtual_anchor: float
    real_anchor_ns: int
    scale: float = 1.0
    seq: int = 0
    run: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.virtual_anchor):
            raise EnvelopeError(f"virtual_anchor {self.virtual_anchor} is not an instant",
                                field="virtual_anchor", rule="finite epoch seconds")
        if self.real_anchor_ns < 0:
            raise EnvelopeError(f"real_anchor_ns {self.real_anchor_ns} is before 1970",
                                field="real_anchor_ns", rule="non-negative epoch ns")
        if not math.isfinite(self.scale) or self.scale < 0:
            raise EnvelopeError(f"scale {self.scale} is not a rate", field="scale",
                                rule="finite, >= 0 (0 = frozen)")
        if self.seq < 0:
            raise EnvelopeError(f"seq {self.seq} is negative", field="seq", rule=">= 0")


def virtual_now(state: ClockState, real_ns: int) -> float:
    """The virtual instant that corresponds to real time ``real_ns``.

    The real difference is taken in integer nanoseconds before scaling so a state
    anchored decades after 1970 loses no precision.
    """
    elapsed_ns = max(0, real_ns - state.real_anchor_ns)
    return state.virtual_anchor + elapsed_ns / NS_PER_S * state.scale


def advanced(state: ClockState, seconds: float, real_ns: int) -> ClockState:
    """A forward jump of ``seconds`` of virtual time, taking effect at ``real_ns``."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ProtocolError(f"cannot advance the clock by {seconds} s: {FORWARD_RULE}",
                            field="seconds", rule=f"finite and >= 0: {FORWARD_RULE}")
    return _reanchored(state, virtual_now(state, real_ns) + seconds, real_ns)


def moved_to(state: ClockState, epoch: float, real_ns: int) -> ClockState:
    """Virtual time set to ``epoch`` at ``real_ns``; refused if that is in its past.

    Every day-and-month rule downstream assumes time only grows (a record kept "for
    28 days" must not come back to life), so a move backwards is an error, not a reset.
    """
    current = virtual_now(state, real_ns)
    if not math.isfinite(epoch) or epoch < current:
        raise ProtocolError(
            f"cannot move the clock to {_iso(epoch)}: it is already {_iso(current)} "
            f"and {FORWARD_RULE}", field="epoch", rule=FORWARD_RULE)
    return _reanchored(state, epoch, real_ns)


def rescaled(state: ClockState, scale: float, real_ns: int) -> ClockState:
    """The same virtual instant at ``real_ns``, running at ``scale`` from then on."""
    if not math.isfinite(scale) or scale < 0:
        raise ProtocolError(f"scale {scale} is not a rate", field="scale",
                            rule="finite, >= 0 (0 = frozen)")
    return replace(_reanchored(state, virtual_now(state, real_ns), real_ns), scale=scale)


def _reanchored(state: ClockState, epoch: float, real_ns: int) -> ClockState:
    return replace(state, virtual_anchor=epoch, real_anchor_ns=max(0, real_ns),
                   seq=state.seq + 1)


class VirtualClock:
    """A Clock over a ClockState: the leader changes it, a follower adopts announcements.

    The real time source is injected so tests (and a replay) can drive it exactly.
    """

    def __init__(self, state: ClockState, *,
                 real_ns: Callable[[], int] = time.time_ns) -> None:
        self._state = state
        self._real_ns = real_ns
        self._awaiting_leader = False

    @classmethod
    def starting_at(cls, epoch: float, *, scale: float = 1.0, run: str = "",
                    real_ns: Callable[[], int] = time.time_ns) -> VirtualClock:
        """A leader's clock that reads ``epoch`` now and runs at ``scale``."""
        return cls(ClockState(virtual_anchor=epoch, real_anchor_ns=real_ns(), scale=scale,
                              run=run), real_ns=real_ns)

    @classmethod
    def following(cls, *, real_ns: Callable[[], int] = time.time_ns) -> VirtualClock:
        """A follower that tells real time until it hears the leader.

        It adopts the first announcement whatever its ``seq``: the leader numbers from
        0 and a follower that started first has nothing to compare against yet.
        """
        now_ns = real_ns()
        clock = cls(ClockState(virtual_anchor=now_ns / NS_PER_S, real_anchor_ns=now_ns),
                    real_ns=real_ns)
        clock._awaiting_leader = True
        return clock

    @property
    def state(self) -> ClockState:
        return self._state

    def now(self) -> float:
        return virtual_now(self._state, self._real_ns())

    def advance(self, seconds: float) -> ClockState:
        """Jump forward; returns the new state for the caller to announce."""
        return self._set(advanced(self._state, seconds, self._real_ns()))

    def move_to(self, epoch: float) -> ClockState:
        """Jump to ``epoch`` (not before now); returns the new state to announce."""
        return self._set(moved_to(self._state, epoch, self._real_ns()))

    def set_scale(self, scale: float) -> ClockState:
        """Run at ``scale`` from now on; returns the new state to announce."""
        return self._set(rescaled(self._state, scale, self._real_ns()))

    def follow(self, state: ClockState) -> bool:
        """Adopt an announced state unless it is older than the one held; True if adopted."""
        if (not self._awaiting_leader and state.run == self._state.run
                and state.seq <= self._state.seq):
            return False
        self._set(state)
        return True

    def _set(self, state: ClockState) -> ClockState:
        self._state = state
        self._awaiting_leader = False
        return state


CLOCK_KIND: Final = "clock"
CLOCK_MAX: Final = 256  # bytes; a handful of numbers
CLOCK_RULE: Final = "at most 256 bytes per clock announcement"
_CLOCK_TYPES: Final[FieldTypes] = {"virtual_anchor": (float, int), "real_anchor_ns": int,
                                   "scale": (float, int), "seq": int, "run": str}


def pack_clock_state(state: ClockState) -> bytes:
    """The announcement the leader publishes (retained) on every change."""
    return pack_record(state, CLOCK_KIND, limit=CLOCK_MAX, rule=CLOCK_RULE)


def unpack_clock_state(data: bytes) -> ClockState:
    """An announcement, checked; every failure is an EnvelopeError naming the field."""
    return unpack_record(data, ClockState, CLOCK_KIND, limit=CLOCK_MAX, rule=CLOCK_RULE,
                         types=_CLOCK_TYPES)


def parse_instant(text: str) -> float:
    """Epoch seconds of an ISO 8601 instant; without an offset it is read as UTC.

    UTC rather than local time so a scenario means the same instant on every machine.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ProtocolError(f"{text!r} is not an instant; use {INSTANT_FORMS}",
                            field="instant", rule=INSTANT_FORMS) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _iso(epoch: float) -> str:
    if not math.isfinite(epoch):
        return str(epoch)
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
