"""The run's figures, merged from every load process's snapshots (``Recorder.take``).

Totals are exact: histograms add bucket by bucket and counters add. The timeline keeps
one row per second of the run: cars connected, messages, errors, and the p50/p99 of the
latencies recorded in that second; a second's histograms are dropped once it is
summarised, so a long run does not hold hundreds of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from hdrh.histogram import HdrHistogram

from loadtest import histograms
from loadtest.recorder import KINDS

ERROR_COUNTERS: Final = ("connect_failed", "publish_refused", "puback_refused",
                         "connection_lost")
TIMELINE_KINDS: Final = ("puback", "ecall_ack")
_SETTLE_S: Final = 3  # a second is summarised once snapshots this much later arrived
DESK_SAMPLE: Final = 5_000  # acknowledged eCalls kept for the desk-receipt lookup


class Aggregate:
    """Everything known about the run so far, fed one snapshot at a time."""

    def __init__(self, *, started_ns: int) -> None:
        self.started_ns = started_ns
        self.totals: dict[str, HdrHistogram] = {}
        self.counters: Counter[str] = Counter()
        self._gauges: dict[str, Mapping[str, int]] = {}
        self._rows: dict[int, dict[str, Any]] = {}
        self._open: dict[int, dict[str, HdrHistogram]] = {}
        self.desk_notes: list[list[Any]] = []  # the first DESK_SAMPLE, [desk, incident, ns]

    def add(self, snapshot: Mapping[str, Any]) -> None:
        second = max(0, int((snapshot["at_ns"] - self.started_ns) // 1_000_000_000))
        histograms.merge_encoded(self.totals, snapshot["histograms"])
        histograms.merge_encoded(self._open.setdefault(second, {}),
                                 {k: v for k, v in snapshot["histograms"].items()
                                  if k in TIMELINE_KINDS})
        self.counters.update(snapshot["counters"])
        room = DESK_SAMPLE - len(self.desk_notes)
        self.desk_notes.extend(snapshot.get("desk_notes", [])[:max(0, room)])
        self._gauges[snapshot["source"]] = snapshot["gauges"]
        row = self._rows.setdefault(second, {"t": second, "connected": 0, "published": 0,
                                             "errors": 0, "ecalls": 0})
        row["published"] += snapshot["counters"].get("published", 0)
        row["ecalls"] += snapshot["counters"].get("ecall_started", 0)
        row["errors"] += sum(snapshot["counters"].get(k, 0) for k in ERROR_COUNTERS)
        row["connected"] = self.connected
        for done in [s for s in self._open if s <= second - _SETTLE_S]:
            self._close(done)

    def _close(self, second: int) -> None:
        row = self._rows.setdefault(second, {"t": second, "connected": self.connected,
                                             "published": 0, "errors": 0, "ecalls": 0})
        for kind, hist in self._open.pop(second).items():
            row[f"{kind}_p50_ms"] = hist.get_value_at_percentile(50.0) / 1000.0
            row[f"{kind}_p99_ms"] = hist.get_value_at_percentile(99.0) / 1000.0

    @property
    def connected(self) -> int:
        return sum(g.get("connected", 0) for g in self._gauges.values())

    def gauge(self, name: str) -> int:
        return sum(g.get(name, 0) for g in self._gauges.values())

    def live(self) -> dict[str, Any]:
        """The few figures the terminal shows while the run goes on: cheap to compute
        (hdrhistogram's percentiles are pure Python; the full figures take longer)."""
        started = self.counters.get("ecall_started", 0)
        acked = self.counters.get("ecall_acked", 0)
        return {
            "connected": self.connected,
            "published": self.counters.get("published", 0),
            "errors": sum(self.counters.get(k, 0) for k in ERROR_COUNTERS),
            "ecalls": {"started": started, "acknowledged": acked},
            "latency": {kind: {f"p{p:g}_ms": h.get_value_at_percentile(p) / 1000.0
                               for p in (50.0, 99.0)}
                        for kind, h in self.totals.items() if h.get_total_count()},
        }

    def settled(self) -> bool:
        """Every eCall started has its acknowledgement: the drain may end early."""
        return self.counters.get("ecall_acked", 0) >= self.counters.get("ecall_started", 0)

    def figures(self, *, final: bool = False) -> dict[str, Any]:
        """Every figure as JSON-able data; ``final`` summarises the seconds still open."""
        if final:
            for second in list(self._open):
                self._close(second)
        started = self.counters.get("ecall_started", 0)
        acked = self.counters.get("ecall_acked", 0)
        attempts = self.counters.get("connect_attempts", 0)
        return {
            "latency": {kind: {"what": KINDS.get(kind, kind), **histograms.summary(h),
                               "distribution": histograms.distribution(h)}
                        for kind, h in sorted(self.totals.items())},
            "counters": dict(sorted(self.counters.items())),
            "connected": self.connected,
            "peak_connected": max((r["connected"] for r in self._rows.values()), default=0),
            "ecalls": {"started": started, "acknowledged": acked,
                       "lost": max(0, started - acked),
                       "voice_fallbacks": self.counters.get("ecall_voice", 0)},
            "ota": {"expected": self.counters.get("ota_expected", 0),
                    "offered": self.counters.get("ota_offered", 0),
                    "missed": max(0, self.counters.get("ota_expected", 0)
                                  - self.counters.get("ota_offered", 0)),
                    "done": self.counters.get("ota_event_done", 0)},
            "connect_failure_share": (self.counters.get("connect_failed", 0) / attempts
                                      if attempts else 0.0),
            "timeline": [self._rows[s] for s in sorted(self._rows)],
            "desk_notes": self.desk_notes,
        }
