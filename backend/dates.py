"""Calendar arithmetic the desks' rules need, without third-party date libraries.

* ``add_months`` / ``add_years`` / ``add_months_epoch`` — calendar months and years, defined in
  ``protocols.calendar_months`` so that the catalogue's retention rules use the same
  arithmetic; re-exported here for the desks (Road Assist 24/7 grants Road Assist "5 jaar"
  from pickup; 29 Feb + 1 year is 28 Feb).
* ``add_working_days`` / ``working_days_between`` — Road Assist 24/7 counts the replacement car
  and the repair in "werkdagen"; Saturdays and Sundays are skipped. Public holidays are
  not modelled: the documents name none (docs/requirements.md#conv-months).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final

from protocols.calendar_months import add_months, add_months_epoch, add_years

__all__ = ["add_months", "add_months_epoch", "add_working_days", "add_years",
           "is_working_day", "utc_date", "working_days_between"]

SATURDAY: Final = 5  # date.weekday(): Monday is 0


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY


def add_working_days(day: date, count: int) -> date:
    """The date ``count`` working days after ``day`` (``count`` >= 0)."""
    if count < 0:
        raise ValueError(f"count {count} must be >= 0")
    current = day
    left = count
    while left:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how many working days ``end`` lies after ``start``."""
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        days += is_working_day(current)
    return days


def utc_date(epoch_s: float) -> date:
    return datetime.fromtimestamp(epoch_s, UTC).date()
