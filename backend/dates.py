"""Calendar arithmetic the desks' rules need, without third-party date libraries.

* ``add_months`` — MINI Connected §2b (HV-R4) deletes HV warn-call data "zes maanden na een gemeld
  incident"; a month later than the 31st lands on the last day of the shorter month
  (31 Aug + 6 months = 28 Feb, or 29 Feb in a leap year).
* ``add_years`` — Road Assist 24/7 grants Road Assist "5 jaar" from pickup; 29 Feb + 1 year is
  28 Feb.
* ``add_working_days`` / ``working_days_between`` — Road Assist 24/7 counts the replacement car
  and the repair in "werkdagen"; Saturdays and Sundays are skipped. Public holidays are
  not modelled: the documents name none (docs/requirements.md#conv-months).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Final

SATURDAY: Final = 5  # date.weekday(): Monday is 0


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 Feb becomes 28 Feb in a common year)."""
    return add_months(day, 12 * years)


def add_months_epoch(epoch_s: float, months: int) -> float:
    """Epoch seconds moved by calendar months in UTC, keeping the time of day."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    moved = add_months(moment.date(), months)
    return datetime.combine(moved, moment.timetz()).timestamp()


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
