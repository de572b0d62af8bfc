"""The profile's thresholds judged against the run's figures (pure).

One ``Check`` per threshold the profile sets; the command exits non-zero when any
fails and names it, so a CI job can gate a release on a profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loadtest.profile import Thresholds


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # the threshold's key in the profile
    limit: float
    measured: float | None  # None: nothing was measured to judge
    passed: bool
    text: str


def _latency(figures: Mapping[str, Any], kind: str, key: str) -> float | None:
    value = figures["latency"].get(kind, {}).get(key)
    return None if value is None else float(value)


def judge(thresholds: Thresholds, figures: Mapping[str, Any], *,
          backend_rejected: int | None = None) -> list[Check]:
    """Every threshold set, in the profile's order. ``backend_rejected`` is how many
    messages the backend counted as rejected during the run, when its API was asked;
    the broker's refusals (PUBACK reason codes, refused publishes) always count."""
    checks: list[Check] = []
    counters = figures["counters"]

    def at_most(name: str, limit: float | None, measured: float | None, unit: str) -> None:
        if limit is None:
            return
        if measured is None:
            checks.append(Check(name, limit, None, False,
                                f"{name}: nothing measured, limit {limit:g}{unit}"))
            return
        passed = measured <= limit
        word = "within" if passed else "BREACHED:"
        checks.append(Check(name, limit, measured, passed,
                            f"{name}: {measured:g}{unit} {word} limit {limit:g}{unit}"))

    at_most("ecall_ack_p99_ms", thresholds.ecall_ack_p99_ms,
            _latency(figures, "ecall_ack", "p99_ms"), " ms")
    at_most("connect_p99_ms", thresholds.connect_p99_ms,
            _latency(figures, "connect", "p99_ms"), " ms")
    # Lost: never acknowledged, or acknowledged but with no record at its desk (read
    # through the desks API when it was at hand).
    ecalls = figures["ecalls"]
    at_most("lost_ecalls", thresholds.lost_ecalls,
            ecalls["lost"] + ecalls.get("not_at_desk", 0), "")
    refused = counters.get("publish_refused", 0) + counters.get("puback_refused", 0)
    at_most("rejected", thresholds.rejected, refused + (backend_rejected or 0), "")
    at_most("connect_failure_share", thresholds.connect_failure_share,
            figures["connect_failure_share"], "")
    at_most("ota_offer_p99_ms", thresholds.ota_offer_p99_ms,
            _latency(figures, "ota_offer", "p99_ms"), " ms")
    at_most("missed_ota_offers", thresholds.missed_ota_offers, figures["ota"]["missed"], "")
    return checks
