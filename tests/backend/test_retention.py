"""Retention deadlines and report lines, without Redis (``backend.privacy.retention``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from backend.privacy.errors import NeverStoredError, RetentionError
from backend.privacy.retention import (
    NEVER_STORED_RULE,
    Tag,
    closed,
    deadline,
    life_ended,
    refuse_never_stored,
    service_report,
    touched,
)
from protocols.catalogue_model import DAY, RetentionRule


def _at(year: int, month: int, day: int, hour: int = 0) -> float:
    return datetime(year, month, day, hour, tzinfo=UTC).timestamp()


T0 = _at(2026, 1, 1)
HOTLINE = RetentionRule(kind="fixed_window", trigger="data processed", window_s=28 * DAY,
                        erasable_on_request=True)
LEARNING = RetentionRule(kind="inactivity_window", trigger="data recording / last new data",
                         window_months=12, idle_months=3)
HV_WARN = RetentionRule(kind="fixed_window", trigger="reported incident", window_months=6)
HV_WARN_V1 = RetentionRule(kind="fixed_window", trigger="reported incident",
                           window_s=180 * DAY)  # as catalogue version 1 tagged it
TELESERVICE = RetentionRule(kind="until_closed", trigger="procedures completed")
TELESERVICE_GRACE = RetentionRule(kind="until_closed", trigger="procedures completed",
                                  close_window_s=DAY)
DIGITAL_KEY = RetentionRule(kind="vehicle_lifetime", trigger="end of vehicle life")
KEYREAD = RetentionRule(kind="not_stated", trigger="not stated", erasable_on_request=True)
LEGAL_ECALL = RetentionRule(kind="never_stored", trigger="n/a")


def _tag(rule: RetentionRule) -> Tag:
    return Tag(record_key="rec:1", service="svc", rule=rule, vin="WMW", written_at=T0, ref="00")


def test_retention_fixed_window_counts_from_the_write() -> None:
    """Customer Hotline: gone 28 days after the data was processed (§2a)."""
    assert deadline(HOTLINE, written_at=T0) == T0 + 28 * DAY
    assert deadline(HOTLINE, written_at=T0, closed_at=T0 + 1, last_data_at=T0 + 5) == (
        T0 + 28 * DAY)


@pytest.mark.parametrize(("incident", "deleted"), [
    (_at(2026, 7, 15, 10), _at(2027, 1, 15, 10)),  # not 11 January (6 x 30 days)
    (_at(2025, 8, 31, 23), _at(2026, 2, 28, 23)),  # end of a shorter month
    (_at(2023, 8, 31, 6), _at(2024, 2, 29, 6)),  # leap year
    (_at(2023, 9, 29), _at(2024, 3, 29)),  # a leap day inside the window is just a day
])
def test_retention_months_are_calendar_months(incident: float, deleted: float) -> None:
    """HV warn call: "zes maanden na een gemeld incident" (§2b, HV-R4, CONV-2)."""
    assert deadline(HV_WARN, written_at=incident) == deleted


def test_retention_years_are_calendar_years() -> None:
    """Intelligent Functions, "maximaal vijf (5) jaar": 29 Feb 2024 + 5 years is 28 Feb."""
    five_years = RetentionRule(kind="fixed_window", trigger="date of collection",
                               window_months=5 * 12)
    assert deadline(five_years, written_at=_at(2024, 2, 29, 8)) == _at(2029, 2, 28, 8)
    assert deadline(five_years, written_at=_at(2026, 7, 15)) == _at(2031, 7, 15)


def test_retention_a_seconds_window_tagged_before_months_still_counts_seconds() -> None:
    """A tag written under catalogue version 1 keeps its rule: 180 days, not six months."""
    assert deadline(HV_WARN_V1, written_at=_at(2026, 7, 15)) == _at(2027, 1, 11)


def test_retention_window_is_in_seconds_or_months_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        RetentionRule(kind="fixed_window", trigger="t", window_s=DAY, window_months=1)
    with pytest.raises(ValueError, match="window is required"):
        RetentionRule(kind="until_closed", trigger="t", window_months=1)
    with pytest.raises(ValueError, match="whole and >= 0"):
        RetentionRule(kind="fixed_window", trigger="t", window_months=-1)
    with pytest.raises(ValueError, match="idle limit is required"):
        RetentionRule(kind="fixed_window", trigger="t", window_months=6, idle_months=1)


def test_retention_inactivity_window_is_the_earlier_of_window_and_idle() -> None:
    """Learning Navigation: 3 months after the last new data, 12 months at the latest."""
    assert deadline(LEARNING, written_at=T0) == _at(2026, 4, 1)
    assert deadline(LEARNING, written_at=T0, last_data_at=_at(2026, 3, 1)) == _at(2026, 6, 1)
    assert deadline(LEARNING, written_at=T0, last_data_at=_at(2026, 12, 1)) == _at(2027, 1, 1)


def test_retention_inactivity_last_data_before_the_write_is_refused() -> None:
    with pytest.raises(RetentionError) as caught:
        deadline(LEARNING, written_at=T0, last_data_at=T0 - 1)
    assert (caught.value.field, caught.value.rule) == (
        "last_data_at", "inactivity_window: not before written_at")


def test_retention_until_closed_has_no_deadline_while_open() -> None:
    """Teleservice: kept until all procedures are completed (§16a), then deleted."""
    assert deadline(TELESERVICE, written_at=T0) is None
    assert deadline(TELESERVICE, written_at=T0, closed_at=T0 + 9 * DAY) == T0 + 9 * DAY
    assert deadline(TELESERVICE_GRACE, written_at=T0, closed_at=T0 + 9 * DAY) == T0 + 10 * DAY


def test_retention_until_closed_before_the_write_is_refused() -> None:
    with pytest.raises(RetentionError) as caught:
        deadline(TELESERVICE, written_at=T0, closed_at=T0 - DAY)
    assert (caught.value.field, caught.value.rule) == (
        "closed_at", "until_closed: not before written_at")


def test_retention_vehicle_lifetime_is_due_at_the_end_of_life_only() -> None:
    """Digital Key info stays until the end of the vehicle's life (§6)."""
    assert deadline(DIGITAL_KEY, written_at=T0) is None
    assert deadline(DIGITAL_KEY, written_at=T0, life_ended_at=T0 + 400 * DAY) == T0 + 400 * DAY


def test_retention_not_stated_never_gets_a_deadline() -> None:
    """No period in the documents: nothing guessed, kept until erased on request."""
    assert deadline(KEYREAD, written_at=T0, closed_at=T0 + 1, life_ended_at=T0 + 2) is None


def test_retention_never_stored_is_refused() -> None:
    """Legal and PSAP eCall: no data processed or stored in the backend (§7b, §7c)."""
    with pytest.raises(NeverStoredError) as caught:
        deadline(LEGAL_ECALL, written_at=T0)
    assert caught.value.rule == NEVER_STORED_RULE
    with pytest.raises(NeverStoredError) as refused:
        refuse_never_stored(LEGAL_ECALL, service="ecall_legal")
    assert refused.value.field == "service"
    assert "ecall_legal" in str(refused.value)
    refuse_never_stored(HOTLINE, service="customer_hotline")  # a storing rule passes


def test_retention_written_at_must_be_an_instant() -> None:
    with pytest.raises(RetentionError) as caught:
        deadline(HOTLINE, written_at=math.nan)
    assert caught.value.field == "written_at"


def test_retention_closing_twice_keeps_the_first_closure() -> None:
    once = closed(_tag(TELESERVICE), at=T0 + DAY)
    assert once.deadline == T0 + DAY
    assert closed(once, at=T0 + 5 * DAY) == once


def test_retention_close_is_for_until_closed_records_only() -> None:
    with pytest.raises(RetentionError) as caught:
        closed(_tag(HOTLINE), at=T0 + DAY)
    assert (caught.value.field, caught.value.rule) == ("rule", "close: until_closed only")


def test_retention_touch_only_moves_the_deadline_forward() -> None:
    later = touched(_tag(LEARNING), at=_at(2026, 2, 1))
    assert later.deadline == _at(2026, 5, 1)
    assert touched(later, at=T0 + DAY) == later
    with pytest.raises(RetentionError):
        touched(_tag(HOTLINE), at=T0 + DAY)


def test_retention_end_of_life_takes_the_earliest_end() -> None:
    ended = life_ended(_tag(DIGITAL_KEY), at=T0 + 10 * DAY)
    assert life_ended(ended, at=T0 + 20 * DAY) == ended
    assert life_ended(ended, at=T0 + 5 * DAY).deadline == T0 + 5 * DAY
    with pytest.raises(RetentionError):
        life_ended(_tag(TELESERVICE), at=T0)


def test_retention_report_line_counts_pending_records() -> None:
    line = service_report("teleservice_call", rule="until_closed", held=5, due=2,
                          oldest_written_at=T0, next_due=T0 + DAY, deleted=7, erased=1,
                          overdue=0)
    assert line.as_dict() == {
        "service": "teleservice_call", "rule": "until_closed", "held": 5, "pending": 3,
        "oldest_written_at": T0, "next_due": T0 + DAY, "deleted": 7, "erased": 1,
        "overdue": 0}


def test_retention_report_line_refuses_negative_counts() -> None:
    with pytest.raises(RetentionError) as caught:
        service_report("x", rule="fixed_window", held=-1, due=0, oldest_written_at=None,
                       next_due=None, deleted=0, erased=0, overdue=0)
    assert caught.value.field == "held"
