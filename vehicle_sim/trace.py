"""What the emulated cars did during a scenario, as the runner records it.

Checking expectations and writing the report need this from the car's side: which
incident each car raised, which variants it tried, when each MSD left the car and
whether the backend acknowledged it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Transmission:
    variant: str
    msg_id: int
    sent_ns: int
    acked_ns: int | None = None
    route: str | None = None

    @property
    def ack_ms(self) -> float | None:
        return None if self.acked_ns is None else (self.acked_ns - self.sent_ns) / 1e6


@dataclass(slots=True)
class IncidentTrace:
    vehicle: str
    vin: str
    incident: str
    trigger: str  # "crash" | "sos"
    transmissions: list[Transmission] = field(default_factory=list)
    voice_country: str | None = None
    update_requests: int = 0
    timestamps: list[int] = field(default_factory=list)  # MSD timestamp of each transmission

    @property
    def final_variant(self) -> str:
        if self.voice_country is not None:
            return "psap_voice"
        return self.transmissions[-1].variant if self.transmissions else "none"

    def settled(self) -> bool:
        """Done from the car's side: a voice call was placed, or every MSD it sent for
        its final variant was acknowledged (updates included)."""
        if self.voice_country is not None:
            return True
        last = [t for t in self.transmissions if t.variant == self.final_variant]
        return len(last) >= 1 + self.update_requests and all(
            t.acked_ns is not None for t in last)
