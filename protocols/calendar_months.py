"""Calendar months and years: the arithmetic of a deadline the documents give in months.

MINI Connected gives several retention periods in months or years (HV Warn Call "zes
maanden na een gemeld incident", §2b; Learning Navigation 12 months; Intelligent
Functions "max 5 jaar"). A month there is a calendar month (docs/requirements.md#conv-months),
so the catalogue's rules (``protocols.catalogue_model.RetentionRule``) and the backend's
desks compute such deadlines here, in one place both may import.

* ``add_months`` — a month later than the 31st lands on the last day of the shorter
  month (31 Aug + 6 months = 28 Feb, or 29 Feb in a leap year).
* ``add_years`` — whole years as 12 months; 29 Feb + 1 year is 28 Feb.
* ``add_months_epoch`` — the same on epoch seconds, in UTC, keeping the time of day.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime


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
