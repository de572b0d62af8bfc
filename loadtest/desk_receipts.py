"""eCall publish to desk receipt, from the desks API's records (pure).

The acknowledgement a car gets means "durably handed to a desk"; when the desk took it
is the desk's own record (``GET /desks/{desk}/incidents/{incident}``, its
``received_ns``, as ``vehicle_sim.expectations`` reads a desk's latency). Each
acknowledged eCall the cars noted (desk, incident, scheduled send) is looked up after
the run and timed from its scheduled send, like every other latency of the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from loadtest import histograms

KIND: Final = "ecall_desk"
WHAT: Final = "scheduled eCall to its receipt at the desk (desks API, acknowledged calls)"


def figures(looked_up: Iterable[tuple[int, Mapping[str, Any] | None]]) -> dict[str, Any]:
    """``(scheduled_ns, record or None)`` per noted eCall: the latency figures of the
    records that carry a receipt time, and how many had none."""
    histogram = histograms.new()
    missing = 0
    for scheduled_ns, record in looked_up:
        received = None if record is None else record.get("received_ns")
        if not isinstance(received, int):
            missing += 1
            continue
        histograms.record_ms(histogram, (received - scheduled_ns) / 1e6)
    return {"what": WHAT, **histograms.summary(histogram),
            "distribution": histograms.distribution(histogram), "without_receipt": missing}
