"""What a chaos run will do: the faults in order, the phase timings, the traffic; pure.

Every phase has the same shape so the figures of two faults compare: steady traffic,
the injection (a held fault such as a SIGSTOP lasts ``hold_s``), recovery with traffic
still flowing, then a drain without new eCalls that lasts until every call is delivered
and acknowledged or ``drain_max_s`` has passed. The drain outlasts two acknowledgement
timers, so a car's retransmission has the chance to repair a loss before it is counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from backend.runtime.roles import ROLES, Role
from chaos.errors import PlanError
from protocols.errors import ProtocolError
from protocols.units import parse_duration

FaultName = Literal["kill_emergency", "kill_desk", "stall_desk", "partition_lane", "slow_redis",
                    "redis_restart", "broker_restart", "redis_kill", "broker_kill"]
# Default order: the faults the platform should shrug off first, the restarts of the
# services last and their crashes (SIGKILL, then started again) after them, so damage a
# restart leaves behind cannot blur the other faults' figures.
FAULTS: Final[tuple[FaultName, ...]] = get_args(FaultName)
HELD_FAULTS: Final[frozenset[FaultName]] = frozenset({"stall_desk", "partition_lane",
                                                      "slow_redis"})
# The backend role a fault signals, when it signals one.
FAULT_ROLE: Final[Mapping[FaultName, Role]] = {
    "kill_emergency": "emergency", "kill_desk": "desks", "stall_desk": "desks",
    "partition_lane": "emergency",
}

DURATION_MIN_S: Final = 2.0
DURATION_MAX_S: Final = 600.0
ACK_TIMEOUT_MIN_S: Final = 0.5
ACK_TIMEOUT_MAX_S: Final = 60.0
RATE_MAX: Final = 500.0
STEADY_SHARE: Final = 0.25
HOLD_SHARE: Final = 0.25
HOLD_MIN_S: Final = 1.0
DRAIN_SLACK_S: Final = 3.0


@dataclass(frozen=True, slots=True)
class PhaseTiming:
    """Seconds of each part of a phase; ``hold_s`` only applies to held faults."""

    steady_s: float
    hold_s: float
    recover_s: float
    drain_max_s: float


def phase_timing(duration_s: float, ack_timeout_s: float, *, held: bool) -> PhaseTiming:
    """Split ``duration_s`` of traffic: a quarter steady, a quarter held (a held fault
    only; at least ``HOLD_MIN_S``), the rest recovery."""
    steady = round(duration_s * STEADY_SHARE, 3)
    hold = round(max(HOLD_MIN_S, duration_s * HOLD_SHARE), 3) if held else 0.0
    recover = round(max(0.0, duration_s - steady - hold), 3)
    return PhaseTiming(steady, hold, recover, round(2 * ack_timeout_s + DRAIN_SLACK_S, 3))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChaosPlan:
    """The checked input of one run."""

    faults: tuple[FaultName, ...] = FAULTS
    duration_s: float = 20.0
    rate: float = 25.0
    ack_timeout_s: float = 10.0
    cars: int = 50
    intelligent_share: float = 0.3
    telemetry_rate: float = 300.0
    teleservice_every_s: float = 2.0

    def __post_init__(self) -> None:
        if not self.faults:
            raise PlanError("--faults", "name at least one fault")
        if not DURATION_MIN_S <= self.duration_s <= DURATION_MAX_S:
            raise PlanError("--duration", f"{self.duration_s:g} s is not "
                            f"{DURATION_MIN_S:g}..{DURATION_MAX_S:g} s")
        if not 0 < self.rate <= RATE_MAX:
            raise PlanError("--rate", f"{self.rate:g} is not in (0, {RATE_MAX:g}] eCalls/s")
        if not ACK_TIMEOUT_MIN_S <= self.ack_timeout_s <= ACK_TIMEOUT_MAX_S:
            raise PlanError("--ack-timeout", f"{self.ack_timeout_s:g} s is not "
                            f"{ACK_TIMEOUT_MIN_S:g}..{ACK_TIMEOUT_MAX_S:g} s")
        if not 1 <= self.cars <= 1_000:
            raise PlanError("--cars", f"{self.cars} is not 1..1000")
        if not 0.0 <= self.intelligent_share <= 1.0:
            raise PlanError("--intelligent-share", f"{self.intelligent_share:g} is not 0..1")
        if self.telemetry_rate < 0 or self.teleservice_every_s < 0:
            raise PlanError("--telemetry-rate", "must not be negative")

    def timing(self, fault: FaultName) -> PhaseTiming:
        return phase_timing(self.duration_s, self.ack_timeout_s, held=fault in HELD_FAULTS)

    def settings(self) -> dict[str, object]:
        """The plan as the JSON report states it."""
        return {"faults": list(self.faults), "duration_s": self.duration_s, "rate": self.rate,
                "ack_timeout_s": self.ack_timeout_s, "cars": self.cars,
                "intelligent_share": self.intelligent_share,
                "telemetry_rate": self.telemetry_rate}


def parse_faults(text: str) -> tuple[FaultName, ...]:
    """``"all"`` or a comma-separated list of fault names, in the order they will run."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if names == ["all"]:
        return FAULTS
    if not names:
        raise PlanError("--faults", f"empty; name faults from {', '.join(FAULTS)} or 'all'")
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise PlanError("--faults", f"unknown fault {', '.join(map(repr, unknown))}; known: "
                        f"{', '.join(FAULTS)} (or 'all')")
    by_name: dict[str, FaultName] = {fault: fault for fault in FAULTS}
    return tuple(by_name[name] for name in names)


def parse_seconds(text: str, *, option: str) -> float:
    """``20``, ``20s``, ``500ms``, ``1min`` → seconds; anything else is a ``PlanError``."""
    try:
        seconds = parse_duration(text.strip())
    except ProtocolError:
        raise PlanError(option, f"{text!r} is not a duration like 20, 20s, 500ms or 1min"
                        ) from None
    return seconds


def parse_pids(items: Sequence[str]) -> dict[Role, int]:
    """``ROLE=PID`` items (``--pid``) → role → pid; roles are the backend's."""
    pids: dict[Role, int] = {}
    for item in items:
        role_text, sep, pid_text = item.partition("=")
        role = next((r for r in ROLES if r == role_text.strip()), None)
        if not sep or role is None:
            raise PlanError("--pid", f"{item!r} is not ROLE=PID with ROLE one of "
                            f"{', '.join(ROLES)}")
        if not pid_text.strip().isdigit() or int(pid_text) <= 0:
            raise PlanError("--pid", f"{item!r}: PID must be a positive number")
        pids[role] = int(pid_text)
    return pids
