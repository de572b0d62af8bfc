"""The types of the service catalogue: retention rules, volume budgets, entries.

MINI Connected (docs/requirements.md#catalogue) states per service a retention rule, the
event that starts it, a data-volume budget and who receives the data. The backend
tags every record with its entry's rule, meters every message against its budget and
answers each party by its entry's third parties, so the numbers live here once.

The rows themselves, the version and the lookup are in ``protocols.catalogue``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from protocols.calendar_months import add_months_epoch

RuleKind = Literal[
    "fixed_window",  # deleted a window (seconds or calendar months) after the trigger
    "inactivity_window",  # a window after the trigger, or an idle limit after the last new data
    "until_closed",  # kept until the procedure is closed ("all procedures completed")
    "vehicle_lifetime",  # kept until the vehicle's life ends
    "never_stored",  # nothing of it may be written to the backend at all
    "not_stated",  # the documents give no period; kept until erased on request
]
RULE_KINDS: Final[frozenset[str]] = frozenset(RuleKind.__args__)  # type: ignore[attr-defined]
DAY: Final = 86_400.0
MONTH: Final = 30 * DAY  # a month of a budget period (PLAT-R2); retention months are calendar
BudgetPer = Literal["message", "day", "week", "month", "year", "hour", "vehicle", "none"]
PERIOD_SECONDS: Final[dict[str, float]] = {
    "hour": 3_600.0, "day": DAY, "week": 7 * DAY, "month": MONTH, "year": 365 * DAY,
}


class CatalogueError(KeyError):
    """A service key the catalogue does not hold."""


def _one_of(kind: str, name: str, seconds: float | None, months: int | None) -> bool:
    """Whether a period is given, refusing one given both in seconds and in months."""
    if seconds is not None and months is not None:
        raise ValueError(f"{kind}: {name} is in seconds or in calendar months, not both")
    return seconds is not None or months is not None


def _later(start: float, seconds: float | None, months: int | None) -> float:
    """``start`` moved by a period in seconds or in calendar months (UTC)."""
    if months is not None:
        return add_months_epoch(start, months)
    assert seconds is not None  # RetentionRule guarantees one of the two
    return start + seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionRule:
    """How long a record of a service may live in the backend.

    The fixed window (``fixed_window``, ``inactivity_window``) and the inactivity limit
    (``inactivity_window``) are each given either in seconds (``window_s``, ``idle_s``:
    the documents' days and hours) or in calendar months (``window_months``,
    ``idle_months``: their months and years, a year being 12 months), because "six
    months after" an incident on 15 July is 15 January, not 180 days later
    (docs/requirements.md#conv-months). ``close_window_s`` is an optional grace after
    closure (``until_closed``, 0 = at closure). ``trigger`` is the event that starts the
    clock, in the documents' words; ``erasable_on_request`` says whether the customer may
    have it deleted earlier.
    """

    kind: RuleKind
    trigger: str
    window_s: float | None = None
    window_months: int | None = None
    idle_s: float | None = None
    idle_months: int | None = None
    close_window_s: float = 0.0
    erasable_on_request: bool = False

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValueError(f"retention kind {self.kind!r} is not one of {sorted(RULE_KINDS)}")
        windowed = self.kind in ("fixed_window", "inactivity_window")
        if windowed != _one_of(self.kind, "the window", self.window_s, self.window_months):
            raise ValueError(f"{self.kind}: a window is required exactly for windowed rules")
        idle = _one_of(self.kind, "the idle limit", self.idle_s, self.idle_months)
        if (self.kind == "inactivity_window") != idle:
            raise ValueError(f"{self.kind}: an idle limit is required exactly for "
                             "inactivity_window")
        for value in (self.window_s, self.idle_s, self.close_window_s):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{self.kind}: durations are finite and >= 0")
        for months in (self.window_months, self.idle_months):
            if months is not None and (isinstance(months, bool) or months < 0):
                raise ValueError(f"{self.kind}: calendar months are whole and >= 0")

    def window_end(self, start: float) -> float:
        """The end of the fixed window that starts at ``start`` (epoch seconds)."""
        if self.kind not in ("fixed_window", "inactivity_window"):
            raise ValueError(f"{self.kind}: no fixed window")
        return _later(start, self.window_s, self.window_months)

    def idle_end(self, last_data_at: float) -> float:
        """The end of the inactivity limit after the last new data (epoch seconds)."""
        if self.kind != "inactivity_window":
            raise ValueError(f"{self.kind}: no inactivity limit")
        return _later(last_data_at, self.idle_s, self.idle_months)

    @property
    def stores(self) -> bool:
        """False for a service of which nothing may be stored (Legal and PSAP eCall)."""
        return self.kind != "never_stored"


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeBudget:
    """How much data a service may move: per message, per period, or both.

    ``per_message_bytes`` bounds one message; ``period_bytes`` bounds the sum over
    ``per`` (a calendar-free period of ``PERIOD_SECONDS``). ``exclusive`` marks a
    "< X" bound (X itself is over); ``approx`` an "about/average" figure, which is
    reported against but never rejects on its own.
    """

    per: BudgetPer
    per_message_bytes: int | None = None
    period_bytes: int | None = None
    exclusive: bool = False
    approx: bool = False
    wording: str = ""

    def __post_init__(self) -> None:
        if self.per in PERIOD_SECONDS and self.period_bytes is None:
            raise ValueError(f"a budget per {self.per} needs period_bytes")
        for value in (self.per_message_bytes, self.period_bytes):
            if value is not None and value < 0:
                raise ValueError("budgets are >= 0 bytes")

    @property
    def period_s(self) -> float | None:
        return PERIOD_SECONDS.get(self.per)

    def message_over(self, size: int) -> bool:
        """Whether one message of ``size`` bytes breaks the per-message bound."""
        limit = self.per_message_bytes
        if limit is None or self.approx:
            return False
        return size >= limit if self.exclusive else size > limit

    def period_over(self, total: int) -> bool:
        """Whether ``total`` bytes in one period break the period bound."""
        limit = self.period_bytes
        if limit is None or self.approx:
            return False
        return total >= limit if self.exclusive else total > limit


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueEntry:
    """One row of the catalogue: a service's sub-function with its rule, budget and recipients.

    ``key`` is the stable snake_case id the backend tags records with. ``ambiguity``
    is None for a plain row; otherwise it says what is unclear and which reading the
    project chose and why. ``safety`` marks calls that are never dropped for a budget.
    ``source`` cites the MINI Connected section and the row's anchor in
    docs/requirements.md (``docs/requirements.md#{key}``).
    """

    key: str
    service: str
    sub_function: str
    retention: RetentionRule
    budget: VolumeBudget | None
    third_parties: tuple[str, ...]
    source: str
    ambiguity: str | None = None
    safety: bool = False
