"""One load process's measurements, taken from outside as a car sees the backend.

A wait starts at the message's *scheduled* time, not at the moment the car got round to
sending it: a stalled backend (or a stalled load process) then shows its stall in the
figures instead of hiding it by sending less (coordinated omission). ``take`` hands what
was recorded since the last call to whoever reports, as plain JSON-able data.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any, Final

from hdrh.histogram import HdrHistogram

from loadtest import histograms

# What is measured, and from which scheduled moment to which reply.
KINDS: Final = {
    "connect": "scheduled connect to CONNACK",
    "puback": "scheduled publish to the broker's PUBACK (any message)",
    "ecall_ack": "scheduled eCall to the backend's application acknowledgement",
    "hv_ack": "scheduled HV warn call to its acknowledgement",
    "teleservice_map": "Teleservice call to the workshop map it brings (when one is due)",
    "ota_offer": "scheduled OTA campaign to its offer at the car",
    "ota_download": "OTA offer at the car to its download's last tenth (modelled transfer)",
}


class Recorder:
    """Open waits, interval histograms, counters and gauges of one process."""

    def __init__(self, *, source: str, now_ns: Callable[[], int] = time.time_ns,
                 on_done: Callable[[str, float], None] | None = None) -> None:
        """``on_done`` hears each latency as it is recorded (Locust's own charts)."""
        self.source = source
        self._now_ns = now_ns
        self._on_done = on_done
        self._waits: dict[tuple[str, Hashable], int] = {}
        self._histograms: dict[str, HdrHistogram] = {}
        self._counters: Counter[str] = Counter()
        self._gauges: Counter[str] = Counter()
        self._notes: list[list[Any]] = []

    def expect(self, kind: str, key: Hashable, scheduled_ns: int) -> None:
        """A reply of ``kind`` for ``key`` is awaited since ``scheduled_ns``."""
        self._waits[(kind, key)] = scheduled_ns

    def done(self, kind: str, key: Hashable, *, at_ns: int | None = None) -> float | None:
        """The reply came (now, or at ``at_ns`` when it came before the car got round to
        awaiting it): its latency in ms, recorded; None if nothing was awaited."""
        scheduled = self._waits.pop((kind, key), None)
        if scheduled is None:
            return None
        ms = ((self._now_ns() if at_ns is None else at_ns) - scheduled) / 1e6
        histograms.record_ms(self._histograms.setdefault(kind, histograms.new()), ms)
        if self._on_done is not None:
            self._on_done(kind, ms)
        return ms

    def waiting(self, kind: str, key: Hashable) -> bool:
        return (kind, key) in self._waits

    def forget(self, kind: str, key: Hashable) -> None:
        self._waits.pop((kind, key), None)

    def count(self, name: str, n: int = 1) -> None:
        self._counters[name] += n

    def note_desk(self, desk: str, incident: str, scheduled_ns: int) -> None:
        """An acknowledged eCall whose desk receipt the command may look up afterwards
        through the desks API (``desk`` is the route its acknowledgement named)."""
        self._notes.append([desk, incident, scheduled_ns])

    def gauge(self, name: str, delta: int) -> None:
        """A level that goes up and down (cars connected): reported as it stands."""
        self._gauges[name] += delta

    def open_waits(self, kind: str) -> int:
        return sum(1 for k, _ in self._waits if k == kind)

    def take(self) -> dict[str, Any]:
        """What was recorded since the last ``take``; gauges as they stand now."""
        snapshot = {
            "source": self.source,
            "at_ns": self._now_ns(),
            "histograms": {k: histograms.encode(h) for k, h in self._histograms.items()
                           if h.get_total_count()},
            "counters": dict(self._counters),
            "gauges": dict(self._gauges),
            "desk_notes": self._notes,
        }
        self._histograms = {}
        self._counters = Counter()
        self._notes = []
        return snapshot
