"""When parked cars leave: an hourly departure rate in Central European local time.

Every PSAP country of the directory keeps CET/CEST, so one local clock serves the
whole fleet. Weekdays have commuter peaks 07-09 and 16-19, weekends a flatter,
later day, nights almost nothing. Departures are a Poisson process with this rate;
the next departure is drawn in one go by inverting the cumulative rate, so a car
parked for days costs nothing until it leaves and a step of any length is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

HOUR_S: Final = 3600.0
DAY_S: Final = 86_400.0
WEEK_S: Final = 7 * DAY_S
MONDAY_SHIFT_S: Final = 3 * DAY_S  # 1970-01-01 was a Thursday

# Departures per parked car per hour, local time.
WEEKDAY_RATE: Final[FloatArray] = np.array([
    0.010, 0.005, 0.005, 0.005, 0.010, 0.040, 0.120, 0.300, 0.280, 0.120, 0.100, 0.110,
    0.130, 0.120, 0.110, 0.140, 0.220, 0.260, 0.200, 0.120, 0.080, 0.050, 0.030, 0.020])
WEEKEND_RATE: Final[FloatArray] = np.array([
    0.015, 0.010, 0.005, 0.005, 0.005, 0.010, 0.030, 0.060, 0.100, 0.150, 0.170, 0.170,
    0.150, 0.140, 0.150, 0.160, 0.150, 0.130, 0.120, 0.090, 0.070, 0.050, 0.030, 0.020])

_WEEK_RATE: Final = np.concatenate([np.tile(WEEKDAY_RATE, 5), np.tile(WEEKEND_RATE, 2)])
_GRID: Final = np.arange(len(_WEEK_RATE) + 1) * HOUR_S
_CUMULATIVE: Final = np.concatenate([[0.0], np.cumsum(_WEEK_RATE)])  # departures since Mon 00:00
_PER_WEEK: Final = float(_CUMULATIVE[-1])

_FIRST_YEAR: Final = 1970
_LAST_YEAR: Final = 2200


def _summer_time(year: int) -> tuple[float, float]:
    """EU summer time: last Sunday of March to last Sunday of October, 01:00 UTC."""
    def last_sunday(month: int) -> float:
        day = date(year, month, 31)
        day -= timedelta(days=(day.weekday() + 1) % 7)
        return datetime(day.year, day.month, day.day, 1, tzinfo=UTC).timestamp()
    return last_sunday(3), last_sunday(10)


_SUMMER: Final = np.array([_summer_time(y) for y in range(_FIRST_YEAR, _LAST_YEAR + 1)])


def cet_offset_s(t: npt.ArrayLike) -> FloatArray:
    """Seconds Central European (summer) time is ahead of UTC at epoch seconds ``t``."""
    seconds = np.asarray(t, dtype=np.float64)
    years = np.floor(seconds).astype(np.int64).astype("datetime64[s]").astype("datetime64[Y]")
    row = np.clip(years.astype(np.int64), 0, _LAST_YEAR - _FIRST_YEAR)
    summer = (_SUMMER[row, 0] <= seconds) & (seconds < _SUMMER[row, 1])
    return np.where(summer, 2 * HOUR_S, HOUR_S)


def local_clock(t: float) -> tuple[int, bool]:
    """Hour of day and whether it is a weekend, in Central European time."""
    local = datetime.fromtimestamp(t + float(cet_offset_s(t)), UTC)
    return local.hour, local.weekday() >= 5


def next_departures(t: FloatArray, rng: np.random.Generator) -> FloatArray:
    """For cars parked at ``t``, when each next leaves (epoch seconds, > ``t``)."""
    local = t + cet_offset_s(t)
    into_week = (local + MONDAY_SHIFT_S) % WEEK_S
    monday = local - into_week
    goal = np.interp(into_week, _GRID, _CUMULATIVE) + rng.exponential(size=t.shape)
    weeks = np.floor(goal / _PER_WEEK)
    leave_local = monday + weeks * WEEK_S + np.interp(goal - weeks * _PER_WEEK,
                                                      _CUMULATIVE, _GRID)
    leave = leave_local - cet_offset_s(leave_local - HOUR_S)
    return np.asarray(np.maximum(leave, np.nextafter(t, np.inf)), dtype=np.float64)
