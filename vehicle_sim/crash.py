"""What the crash sensors and seat sensors report after an impact.

These are the inputs the CDC-led National Expert Panel on Field Triage asked an AACN
system to transmit (delta-V, principal direction, multiple impacts, rollover, belt
use), kept apart from the injury model so the model can be swapped without touching
how a crash is described.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

CrashDirection = Literal["frontal", "near_side", "far_side", "rear", "rollover"]
CRASH_DIRECTIONS: Final[tuple[CrashDirection, ...]] = (
    "frontal", "near_side", "far_side", "rear", "rollover",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashPulse:
    """One crash event as the airbag control unit sums it up.

    ``near_side`` / ``far_side`` are relative to the occupants: a side impact on the
    driver's side is near side for the driver. ``principal_direction="rollover"``
    implies ``rollover``; a planar impact that ends in a rollover sets both.
    """

    delta_v_kmh: float
    principal_direction: CrashDirection
    multiple_impacts: bool = False
    rollover: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.delta_v_kmh) or self.delta_v_kmh < 0:
            raise ValueError(f"delta_v_kmh {self.delta_v_kmh} must be finite and >= 0")
        if self.principal_direction not in CRASH_DIRECTIONS:
            raise ValueError(f"principal_direction {self.principal_direction!r} is not one of "
                             f"{', '.join(CRASH_DIRECTIONS)}")

    @property
    def is_rollover(self) -> bool:
        return self.rollover or self.principal_direction == "rollover"


@dataclass(frozen=True, slots=True)
class Occupancy:
    """Seat occupancy and belt-buckle state, one entry per seat.

    A buckled belt on an empty seat (buckled to silence the chime) protects nobody,
    so only occupied seats count as belted.
    """

    taken: tuple[bool, ...]
    belted: tuple[bool, ...]

    def __post_init__(self) -> None:
        if not self.taken or len(self.taken) > 255:
            raise ValueError(f"a vehicle has 1..255 seats, not {len(self.taken)}")
        if len(self.belted) != len(self.taken):
            raise ValueError(f"{len(self.belted)} belt states for {len(self.taken)} seats")

    @classmethod
    def from_belts(cls, belted: Sequence[bool], *, seats: int) -> Occupancy:
        """Occupants in the first ``len(belted)`` seats, with their belt states."""
        if len(belted) > seats:
            raise ValueError(f"{len(belted)} occupants do not fit in {seats} seats")
        free = seats - len(belted)
        return cls(taken=(True,) * len(belted) + (False,) * free,
                   belted=tuple(bool(b) for b in belted) + (False,) * free)

    @property
    def seats(self) -> int:
        return len(self.taken)

    @property
    def occupants(self) -> int:
        return sum(self.taken)

    @property
    def belted_occupants(self) -> int:
        return sum(t and b for t, b in zip(self.taken, self.belted, strict=True))

    @property
    def all_belted(self) -> bool:
        """Every occupant belted; the vehicle-level belt predictor of the AACN model."""
        return self.occupants > 0 and self.belted_occupants == self.occupants
