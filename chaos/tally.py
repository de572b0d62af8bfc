"""From observations to figures and a verdict; pure.

An eCall is *delivered* when its PSAP record (``psap:incident:{incident}``) holds its
messageIdentifier, *lost* when it does not after the drain, *duplicated* when the PSAP
record, or the call-centre case of an Intelligent eCall, holds that messageIdentifier more
than once. Readiness is judged from ``/ready`` samples: whether it went red after the
injection, how soon, and how long after the fault ended it was green again for good.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from chaos.calls import CallRecord

EXAMPLES_SHOWN: Final = 5
EXIT_PASSED: Final = 0
EXIT_FAILED: Final = 1


@dataclass(frozen=True, slots=True)
class Receipt:
    """One transmission a desk recorded: its messageIdentifier and when the desk got it."""

    msg_id: int
    received_ns: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the desks hold for one incident: the PSAP record's transmissions and, for an
    Intelligent eCall, the messageIdentifiers of the call-centre case."""

    psap: tuple[Receipt, ...] = ()
    case_msg_ids: tuple[int, ...] = ()


def receipts_of(transmissions_json: bytes | str | None) -> tuple[Receipt, ...]:
    """The ``transmissions`` field of a desk record (a JSON list) as receipts."""
    if not transmissions_json:
        return ()
    rows = json.loads(transmissions_json)
    return tuple(Receipt(int(row["msg_id"]), int(row["received_ns"])) for row in rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """The figures of one phase."""

    sent: int
    acked: int
    retransmitted: int
    delivered: int
    lost: int
    duplicated: int
    max_delay_ms: float | None
    lost_examples: tuple[str, ...] = ()
    duplicated_examples: tuple[str, ...] = ()


def tally(calls: Sequence[CallRecord], deliveries: Mapping[str, Delivery]) -> Tally:
    """Count each call once: acknowledged, delivered or lost, duplicated, and its delay."""
    acked = delivered = retransmitted = 0
    lost: list[str] = []
    duplicated: list[str] = []
    delays_ns: list[int] = []
    for call in calls:
        acked += call.acked
        retransmitted += call.retransmissions
        delivery = deliveries.get(call.incident, Delivery())
        matching = [r for r in delivery.psap if r.msg_id == call.msg_id]
        if matching:
            delivered += 1
            delays_ns.append(min(r.received_ns for r in matching) - call.sent_ns)
        else:
            lost.append(call.incident)
        if len(matching) > 1 or delivery.case_msg_ids.count(call.msg_id) > 1:
            duplicated.append(call.incident)
    return Tally(sent=len(calls), acked=acked, retransmitted=retransmitted,
                 delivered=delivered, lost=len(lost), duplicated=len(duplicated),
                 max_delay_ms=round(max(delays_ns) / 1e6, 3) if delays_ns else None,
                 lost_examples=tuple(lost[:EXAMPLES_SHOWN]),
                 duplicated_examples=tuple(duplicated[:EXAMPLES_SHOWN]))


def settled(calls: Sequence[CallRecord], deliveries: Mapping[str, Delivery]) -> bool:
    """True once every call is acknowledged and its PSAP record holds it: the drain is over."""
    return all(call.acked and any(r.msg_id == call.msg_id
                                  for r in deliveries.get(call.incident, Delivery()).psap)
               for call in calls)


@dataclass(frozen=True, slots=True)
class Sample:
    """One ``/ready`` answer: a monotonic time and whether it was 200."""

    at_s: float
    ready: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Readiness:
    """``red_after_s`` after the injection; ``ready_again_s`` after the fault's end (0 when it
    never went red, None when it was still red at the end of the phase)."""

    red_seen: bool
    red_after_s: float | None
    ready_again_s: float | None
    samples: int


def readiness(samples: Sequence[Sample], *, injected_s: float, fault_end_s: float,
              until_s: float) -> Readiness:
    """Judge the samples taken from the injection to the end of the phase."""
    window = [s for s in samples if injected_s <= s.at_s <= until_s]
    reds = [s for s in window if not s.ready]
    if not reds:
        return Readiness(red_seen=False, red_after_s=None, ready_again_s=0.0,
                         samples=len(window))
    last_red = reds[-1].at_s
    green = next((s for s in window if s.at_s > last_red and s.ready), None)
    again = None if green is None else round(max(0.0, green.at_s - fault_end_s), 3)
    return Readiness(red_seen=True, red_after_s=round(reds[0].at_s - injected_s, 3),
                     ready_again_s=again, samples=len(window))


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultResult:
    """One phase: the fault, or why it was skipped, and what was seen."""

    fault: str
    skipped: str | None = None
    tally: Tally | None = None
    readiness: Readiness | None = None
    background: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.tally is not None and (self.tally.lost > 0 or self.tally.duplicated > 0)

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"fault": self.fault, "skipped": self.skipped}
        if self.tally is not None:
            t = self.tally
            row |= {"sent": t.sent, "acked": t.acked, "retransmitted": t.retransmitted,
                    "delivered": t.delivered, "lost": t.lost, "duplicated": t.duplicated,
                    "max_delay_ms": t.max_delay_ms, "lost_examples": list(t.lost_examples),
                    "duplicated_examples": list(t.duplicated_examples)}
        if self.readiness is not None:
            r = self.readiness
            row |= {"red_seen": r.red_seen, "red_after_s": r.red_after_s,
                    "ready_again_s": r.ready_again_s, "ready_samples": r.samples}
        if self.background:
            row["background"] = dict(self.background)
        return row


def exit_code(results: Sequence[FaultResult]) -> int:
    """1 if any phase lost or duplicated an eCall, else 0; skipped faults pass nothing."""
    return EXIT_FAILED if any(result.failed for result in results) else EXIT_PASSED


def report(results: Sequence[FaultResult], settings: Mapping[str, object]) -> dict[str, Any]:
    """The JSON report: settings, one row per phase, the totals and the verdict."""
    ran = [r for r in results if r.tally is not None]
    return {
        "settings": dict(settings),
        "faults": [r.as_dict() for r in results],
        "sent": sum(r.tally.sent for r in ran if r.tally),
        "lost": sum(r.tally.lost for r in ran if r.tally),
        "duplicated": sum(r.tally.duplicated for r in ran if r.tally),
        "failed": [r.fault for r in results if r.failed],
        "skipped": [r.fault for r in results if r.skipped is not None],
        "passed": exit_code(results) == EXIT_PASSED,
    }
