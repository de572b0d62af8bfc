"""Judging one message against its service's data-volume budget (pure, no I/O).

MINI Connected gives every service a volume figure (docs/requirements.md#plat-r2,
the catalogue's ``volume_bytes_max``): "< 1 KB per eCall", "max 50 KB per service/maintenance
request", "1–10 GB per download", "~200 KB, ~6 times a year". The backend meters every
uplink and downlink message against it, so a car or a backend job that starts moving
more than the documents promise is caught and counted instead of silently billed.

The rules, in order:

1. the per-message bound (``VolumeBudget.per_message_bytes``) is judged on the size
   alone, before any stored usage is read;
2. then the period bound (``period_bytes`` over ``per``) on this period's usage plus the
   message;
3. a safety call (``CatalogueEntry.safety``: Intelligent and Legal eCall, the High
   Voltage Warn Call) is never dropped for a budget: over a bound it is accepted and
   flagged, because losing an emergency message costs more than any byte;
4. an "about/average" figure (``VolumeBudget.approx``) describes typical traffic, not a
   limit the documents impose, so going over it is flagged ``over_nominal`` and never
   rejected.

Every bound is read as ``protocols.size_bounds`` reads it (docs/requirements.md#conv-bounds):
"< X" exclusive (X bytes breaks it), "max X" inclusive; the car's contract checks and the
emergency relay's flag counter ask the same ``within``, so all three agree at exactly X.

The Redis store needs the decision inside one atomic script, so the judgement is split
into a ``Plan`` (everything that depends on the entry and the size only) and its
``decide(used_in_period)``: the store's Lua script makes the same single comparison
``used + size > period_cap`` that ``decide`` makes, and both read it from the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from backend.privacy.errors import BudgetExceededError
from protocols.catalogue_model import MONTH, CatalogueEntry, VolumeBudget
from protocols.size_bounds import SizeBound, within

Reason = Literal["message_over_budget", "period_over_budget", "over_nominal"]
BoundField = Literal["per_message_bytes", "period_bytes"]
# Services whose budget has no period (per message, per use, or none stated) are still
# counted per period so their traffic can be shown over time; a 30-day month is the
# period the documents use for their own averages (Navigation "avg 500 MB per month",
# Teleservice "every 28 days").
REPORT_PERIOD_S: Final = MONTH


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What the meter decided about one message.

    ``accepted`` False means the message is dropped (and only counted); ``flagged``
    means it went through although it broke a bound (a safety call) or went over a
    nominal figure (an approx budget). ``reason`` is None for a message within its
    budget. ``field`` names the ``VolumeBudget`` bound that was broken, ``limit`` its
    value (for a message within budget: the tightest bound it was judged against).
    ``used_after`` is the period's usage once this message is counted; a rejected
    message adds nothing, so it equals the usage before.
    """

    key: str
    accepted: bool
    flagged: bool
    reason: Reason | None
    field: BoundField | None
    rule: str
    size: int
    used_after: int
    limit: int | None

    @property
    def explanation(self) -> str:
        """One line an operator can read: the service, the bound, the numbers, the rule."""
        if self.reason is None:
            return f"{self.key}: {self.size} B within budget (rule: {self.rule})"
        if self.field == "per_message_bytes":
            what = f"message of {self.size} B is over per_message_bytes {self.limit}"
        else:
            total = self.used_after if self.accepted else self.used_after + self.size
            what = f"period usage would reach {total} B, over period_bytes {self.limit}"
        outcome = ("rejected" if not self.accepted else
                   "accepted as a safety call, flagged" if self.reason != "over_nominal" else
                   "accepted, over the nominal figure")
        return f"{self.key}: {what}; {outcome} (rule: {self.rule})"

    def raise_if_rejected(self) -> Verdict:
        """The verdict itself, or ``BudgetExceededError`` when the message was rejected."""
        if not self.accepted:
            raise BudgetExceededError(self.explanation, verdict=self)
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class Breach:
    """What happens when a bound is broken: the reason code, the bound, and whether it drops."""

    reason: Reason
    field: BoundField
    limit: int
    rejects: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The judgement of one message before its period's usage is known.

    ``message`` is the per-message breach, if the size alone breaks it (then the period
    is not judged). ``period_cap`` is the largest period total that stays within the
    period bound (None: no period test); passing it means ``period``.
    """

    key: str
    size: int
    rule: str
    message: Breach | None
    period_cap: int | None
    period: Breach | None
    nominal_limit: int | None

    def decide(self, used_in_period: int) -> Verdict:
        """The verdict once this period's usage before the message is known."""
        if used_in_period < 0:
            raise ValueError(f"used_in_period is {used_in_period}; usage is >= 0 bytes")
        breach = self.message
        if breach is None and self.period_cap is not None and \
                used_in_period + self.size > self.period_cap:
            breach = self.period
        if breach is None:
            return Verdict(key=self.key, accepted=True, flagged=False, reason=None, field=None,
                           rule=self.rule, size=self.size,
                           used_after=used_in_period + self.size, limit=self.nominal_limit)
        accepted = not breach.rejects
        return Verdict(key=self.key, accepted=accepted, flagged=accepted, reason=breach.reason,
                       field=breach.field, rule=self.rule, size=self.size,
                       used_after=used_in_period + (self.size if accepted else 0),
                       limit=breach.limit)


def describe(budget: VolumeBudget) -> str:
    """The budget in words, for entries whose ``wording`` is empty."""
    sign = "<" if budget.exclusive else "≤"
    parts = []
    if budget.per_message_bytes is not None:
        parts.append(f"{sign} {budget.per_message_bytes} B per message")
    if budget.period_bytes is not None:
        parts.append(f"{sign} {budget.period_bytes} B per {budget.per}")
    text = ", ".join(parts) or "no figure"
    return f"about {text}" if budget.approx else text


def rule_of(entry: CatalogueEntry) -> str:
    """The rule text a verdict cites: the documents' wording and the catalogue line."""
    if entry.budget is None:
        return f"no volume figure stated ({entry.source})"
    wording = entry.budget.wording or describe(entry.budget)
    return f"{wording!r} ({entry.source})"


def message_bound(budget: VolumeBudget) -> SizeBound | None:
    """The per-message bound of a budget, to be read with ``within``; None when unstated."""
    if budget.per_message_bytes is None:
        return None
    return SizeBound(budget.per_message_bytes, exclusive=budget.exclusive,
                     rule=budget.wording)


def period_cap(budget: VolumeBudget) -> int | None:
    """Largest period total within the period bound: X for "≤ X", X - 1 for "< X"."""
    if budget.period_bytes is None or budget.per in ("message", "none"):
        return None
    return SizeBound(budget.period_bytes, exclusive=budget.exclusive).largest


def metering_period_s(budget: VolumeBudget | None) -> float | None:
    """Seconds of the period a service is counted in; None = the vehicle's whole life.

    A period budget counts in its own period; a budget per vehicle ("up to 5 MB per
    vehicle") over the vehicle's life; anything else in ``REPORT_PERIOD_S``.
    """
    if budget is not None:
        if budget.period_s is not None:
            return budget.period_s
        if budget.per == "vehicle":
            return None
    return REPORT_PERIOD_S


def period_index(at: float, period_s: float | None) -> int:
    """Calendar-free bucket of ``at``: floor(at / period_s); 0 for a lifetime period.

    Calendar-free because the documents' "per month"/"per year" name an amount of
    traffic, not a billing calendar, and because virtual time in scenarios moves by
    seconds: every backend process buckets the same instant the same way.
    """
    if not math.isfinite(at):
        raise ValueError(f"at is {at!r}; a timestamp is a finite number of seconds")
    if period_s is None:
        return 0
    if not (math.isfinite(period_s) and period_s > 0):
        raise ValueError(f"period_s is {period_s!r}; a period is > 0 seconds")
    return math.floor(at / period_s)


def plan(entry: CatalogueEntry, *, size: int) -> Plan:
    """Everything the judgement needs from the entry and the size alone."""
    if size < 0:
        raise ValueError(f"size is {size}; a message is >= 0 bytes")
    rule = rule_of(entry)
    budget = entry.budget
    if budget is None:
        return Plan(key=entry.key, size=size, rule=rule, message=None, period_cap=None,
                    period=None, nominal_limit=None)

    def breach(field: BoundField, limit: int) -> Breach:
        if budget.approx:
            return Breach(reason="over_nominal", field=field, limit=limit, rejects=False)
        reason: Reason = ("message_over_budget" if field == "per_message_bytes"
                          else "period_over_budget")
        return Breach(reason=reason, field=field, limit=limit, rejects=not entry.safety)

    # An ``approx`` figure is still compared (and reported), just never enforced.
    bound = message_bound(budget)
    message = None
    if bound is not None and not within(bound, size):
        message = breach("per_message_bytes", bound.limit)
    cap = period_cap(budget)
    period = None if cap is None or budget.period_bytes is None else \
        breach("period_bytes", budget.period_bytes)
    nominal = budget.period_bytes if cap is not None else budget.per_message_bytes
    return Plan(key=entry.key, size=size, rule=rule, message=message, period_cap=cap,
                period=period, nominal_limit=nominal)


def judge(entry: CatalogueEntry, *, size: int, used_in_period: int) -> Verdict:
    """Judge a message of ``size`` bytes when ``used_in_period`` bytes are already counted."""
    return plan(entry, size=size).decide(used_in_period)
