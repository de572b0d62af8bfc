"""One eCall as the car sees it, and the car's retransmission rule; pure.

A car that gets no application acknowledgement within its timer sends the SAME message
again: same incident, same messageIdentifier, same bytes. The platform must record it
once however often it arrives, so retransmissions are counted apart from new calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocols.topics import EcallVariant


@dataclass(slots=True, kw_only=True)
class CallRecord:
    """What the sender knows of one eCall; ``sent_ns`` is the first publication (wall clock,
    comparable with the desks' ``received_ns`` on one host), ``last_sent_s`` a monotonic time."""

    incident: str
    variant: EcallVariant
    msg_id: int
    car: int
    sent_ns: int
    last_sent_s: float
    retransmissions: int = 0
    acked: bool = False
    open: bool = True


def due_for_retransmission(calls: Iterable[CallRecord], *, now_s: float,
                           ack_timeout_s: float) -> list[CallRecord]:
    """The open, unacknowledged calls whose acknowledgement timer ran out."""
    return [call for call in calls
            if call.open and not call.acked and now_s - call.last_sent_s >= ack_timeout_s]
