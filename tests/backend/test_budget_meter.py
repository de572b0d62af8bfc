"""The pure budget judgement: bounds, their order, safety calls, nominal figures, periods.

The entries are built here, shaped like the catalogue rows of docs/requirements.md that
they name, so these tests do not depend on the catalogue table being filled.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.privacy.budget_meter import (
    REPORT_PERIOD_S,
    judge,
    metering_period_s,
    period_cap,
    period_index,
    plan,
)
from backend.privacy.errors import BudgetExceededError
from protocols.catalogue import entry
from protocols.catalogue_model import DAY, CatalogueEntry, RetentionRule, VolumeBudget

GB = 10**9


def make_entry(key: str, budget: VolumeBudget | None, *, safety: bool = False) -> CatalogueEntry:
    return CatalogueEntry(key=key, service="Test", sub_function=key.replace("_", " "),
                          retention=RetentionRule(kind="not_stated", trigger="not stated"),
                          budget=budget, third_parties=(),
                          source=f"test row docs/requirements.md#{key}",
                          safety=safety)


# Shaped like the catalogue rows: Teleservice Call "max 50 KB per service/maintenance request".
TELESERVICE = make_entry("teleservice_call", VolumeBudget(
    per="message", per_message_bytes=50_000, wording="max 50 KB per service/maintenance request"))
# Workshop map-data update "~200 KB, ~6 times a year or as needed" (approx).
WORKSHOP_MAP = make_entry("workshop_map", VolumeBudget(
    per="year", per_message_bytes=200_000, period_bytes=1_200_000, approx=True,
    wording="~200 KB, ~6 times a year or as needed"))
# RSU "1–10 GB per download before installation".
RSU = make_entry("rsu", VolumeBudget(
    per="message", per_message_bytes=10 * GB, wording="1–10 GB per download"))
# High Voltage Warn Call "< 25 KB per use" and Intelligent eCall "< 1 KB per eCall": safety.
HV_WARN = make_entry("hv_warn_call", VolumeBudget(
    per="message", per_message_bytes=25_000, exclusive=True, wording="< 25 KB per use"),
    safety=True)
ECALL = make_entry("ecall_intelligent", VolumeBudget(
    per="message", per_message_bytes=1_000, exclusive=True, wording="< 1 KB per eCall"),
    safety=True)
# Roadside Assistance Call "< 50 KB per use".
ROADSIDE = make_entry("roadside_assistance", VolumeBudget(
    per="message", per_message_bytes=50_000, exclusive=True, wording="< 50 KB per use"))
# Charge Management "< 50 KB per day": an exclusive period bound.
CHARGE = make_entry("charge_management", VolumeBudget(
    per="day", period_bytes=50_000, exclusive=True, wording="< 50 KB per day"))
# Traffic Camera Information "max 5 MB per month": an inclusive period bound.
TRAFFIC_CAMERA = make_entry("traffic_camera", VolumeBudget(
    per="month", period_bytes=5_000_000, wording="max 5 MB per month, constant basis"))
# Digital Key "up to 5 MB per vehicle": a lifetime bound.
DIGITAL_KEY = make_entry("digital_key", VolumeBudget(
    per="vehicle", period_bytes=5_000_000, wording="up to 5 MB per vehicle (full use)"))
# Both bounds at once, to see which is judged first.
BOTH = make_entry("both_bounds", VolumeBudget(
    per="day", per_message_bytes=1_000, period_bytes=2_000, wording="≤ 1 KB, ≤ 2 KB per day"))
UNSTATED = make_entry("electronic_service_history", None)


def test_budget_meter_message_over_is_rejected_naming_field_and_rule() -> None:
    """A 50,001-byte Teleservice call breaks "max 50 KB": rejected, bound and wording named."""
    verdict = judge(TELESERVICE, size=50_001, used_in_period=7_000)
    assert (verdict.accepted, verdict.flagged, verdict.reason, verdict.field, verdict.limit) == (
        False, False, "message_over_budget", "per_message_bytes", 50_000)
    assert "max 50 KB per service/maintenance request" in verdict.rule
    assert "test row docs/requirements.md#teleservice_call" in verdict.rule
    assert verdict.used_after == 7_000  # a rejected message adds nothing
    with pytest.raises(BudgetExceededError) as caught:
        verdict.raise_if_rejected()
    assert caught.value.field == "per_message_bytes"
    assert caught.value.rule == verdict.rule
    assert "50001" in str(caught.value) and "50000" in str(caught.value)


def test_budget_meter_teleservice_50_kb_per_call() -> None:
    """Teleservice: exactly 50 KB is within "max 50 KB", call after call (no period bound)."""
    used = 0
    for _ in range(30):
        verdict = judge(TELESERVICE, size=50_000, used_in_period=used)
        assert verdict.accepted and not verdict.flagged and verdict.reason is None
        used = verdict.used_after
    assert used == 30 * 50_000
    assert verdict.raise_if_rejected() is verdict


def test_budget_meter_exclusive_and_inclusive_bounds_at_the_limit() -> None:
    """"< 50 KB" refuses 50,000 B; "max 50 KB" takes it; the same on a period sum."""
    assert not judge(ROADSIDE, size=50_000, used_in_period=0).accepted
    assert judge(ROADSIDE, size=49_999, used_in_period=0).accepted
    assert judge(TELESERVICE, size=50_000, used_in_period=0).accepted
    # Charge Management "< 50 KB per day": 50,000 in the day is already over.
    assert judge(CHARGE, size=9_999, used_in_period=40_000).accepted
    at_limit = judge(CHARGE, size=10_000, used_in_period=40_000)
    assert (at_limit.accepted, at_limit.reason, at_limit.field, at_limit.limit) == (
        False, "period_over_budget", "period_bytes", 50_000)
    # Traffic Camera "max 5 MB per month": exactly 5 MB is fine, one byte more is not.
    assert judge(TRAFFIC_CAMERA, size=1_000_000, used_in_period=4_000_000).accepted
    over = judge(TRAFFIC_CAMERA, size=1_000_001, used_in_period=4_000_000)
    assert (over.accepted, over.reason, over.used_after) == (False, "period_over_budget",
                                                             4_000_000)
    assert "period_bytes 5000000" in over.explanation


def test_budget_meter_period_rejected_when_the_sum_would_pass() -> None:
    """Each message is small; the one that would carry the day past the bound is refused."""
    used, accepted = 0, 0
    for _ in range(10):
        verdict = judge(CHARGE, size=12_000, used_in_period=used)
        if verdict.accepted:
            accepted += 1
            used = verdict.used_after
        else:
            assert verdict.reason == "period_over_budget"
    assert (accepted, used) == (4, 48_000)


def test_budget_meter_message_bound_is_judged_before_the_period() -> None:
    """A message over both bounds is reported for its own size, the first rule."""
    verdict = judge(BOTH, size=1_500, used_in_period=1_000)
    assert (verdict.reason, verdict.field, verdict.limit) == (
        "message_over_budget", "per_message_bytes", 1_000)
    period = judge(BOTH, size=1_000, used_in_period=1_500)
    assert (period.reason, period.field, period.limit) == (
        "period_over_budget", "period_bytes", 2_000)


@pytest.mark.parametrize("size", [999, 1_000, 1_001, 25_000, 10 * GB])
def test_budget_meter_safety_calls_are_never_rejected(size: int) -> None:
    """An eCall over "< 1 KB" goes through, flagged; within it, not flagged."""
    verdict = judge(ECALL, size=size, used_in_period=123)
    assert verdict.accepted
    assert verdict.flagged == (size >= 1_000)
    assert verdict.reason == (None if size < 1_000 else "message_over_budget")
    assert verdict.used_after == 123 + size
    assert verdict.raise_if_rejected() is verdict


def test_budget_meter_hv_warn_call_over_25_kb_is_flagged() -> None:
    """The HV warn call is a safety call: 25,000 B breaks "< 25 KB" and is only flagged."""
    verdict = judge(HV_WARN, size=25_000, used_in_period=0)
    assert (verdict.accepted, verdict.flagged, verdict.reason, verdict.field) == (
        True, True, "message_over_budget", "per_message_bytes")
    assert "safety call" in verdict.explanation


def test_budget_meter_workshop_map_six_a_year_then_over_nominal() -> None:
    """6 × 200 KB in a year is the nominal figure; a 7th is reported, never rejected."""
    used = 0
    for _ in range(6):
        verdict = judge(WORKSHOP_MAP, size=200_000, used_in_period=used)
        assert verdict.accepted and not verdict.flagged
        used = verdict.used_after
    assert used == 1_200_000
    seventh = judge(WORKSHOP_MAP, size=200_000, used_in_period=used)
    assert (seventh.accepted, seventh.flagged, seventh.reason, seventh.field) == (
        True, True, "over_nominal", "period_bytes")
    big = judge(WORKSHOP_MAP, size=10_000_000, used_in_period=0)
    assert (big.accepted, big.reason, big.field) == (True, "over_nominal", "per_message_bytes")


def test_budget_meter_ota_download_1_to_10_gb() -> None:
    """An RSU download of 1–10 GB is accepted; 11 GB is over "1–10 GB per download"."""
    for size in (1 * GB, 5 * GB, 10 * GB):
        assert judge(RSU, size=size, used_in_period=0).accepted
    over = judge(RSU, size=11 * GB, used_in_period=0)
    assert (over.accepted, over.reason, over.limit) == (False, "message_over_budget", 10 * GB)


def test_budget_meter_unstated_budget_counts_without_judging() -> None:
    """A service with no stated figure is accepted as is; the rule says nothing was stated."""
    verdict = judge(UNSTATED, size=10**8, used_in_period=5)
    assert (verdict.accepted, verdict.flagged, verdict.limit, verdict.used_after) == (
        True, False, None, 10**8 + 5)
    assert "no volume figure stated" in verdict.rule


def test_budget_meter_refuses_negative_numbers() -> None:
    with pytest.raises(ValueError, match="size"):
        judge(TELESERVICE, size=-1, used_in_period=0)
    with pytest.raises(ValueError, match="used_in_period"):
        judge(TELESERVICE, size=1, used_in_period=-1)


def test_budget_meter_period_index_is_calendar_free() -> None:
    """floor(at / period_s): the last second of a day and the first of the next differ."""
    assert period_index(DAY * 100 - 0.001, DAY) == 99
    assert period_index(DAY * 100, DAY) == 100
    assert period_index(-1.0, DAY) == -1
    assert period_index(1e12, None) == 0
    with pytest.raises(ValueError, match="at"):
        period_index(math.nan, DAY)
    with pytest.raises(ValueError, match="period_s"):
        period_index(0.0, 0.0)


def test_budget_meter_metering_periods() -> None:
    """Period budgets count in their period, per-vehicle ones for life, others monthly."""
    assert metering_period_s(WORKSHOP_MAP.budget) == 365 * DAY
    assert metering_period_s(DIGITAL_KEY.budget) is None
    assert metering_period_s(TELESERVICE.budget) == REPORT_PERIOD_S
    assert metering_period_s(None) == REPORT_PERIOD_S
    assert DIGITAL_KEY.budget is not None and TELESERVICE.budget is not None
    assert period_cap(DIGITAL_KEY.budget) == 5_000_000
    assert period_cap(TELESERVICE.budget) is None


@given(limit=st.integers(1, 10**6), exclusive=st.booleans(),
       used=st.integers(0, 2 * 10**6), size=st.integers(0, 10**6))
def test_budget_meter_plan_agrees_with_the_catalogue_model(limit: int, exclusive: bool,
                                                           used: int, size: int) -> None:
    """The cap the store's script compares with says what ``VolumeBudget.period_over`` says."""
    budget = VolumeBudget(per="day", period_bytes=limit, exclusive=exclusive)
    verdict = plan(make_entry("x", budget), size=size).decide(used)
    assert verdict.accepted == (not budget.period_over(used + size))


@pytest.mark.parametrize(("key", "size", "over"), [
    ("ecall_intelligent", 999, False), ("ecall_intelligent", 1_000, True),
    ("ecall_intelligent", 1_001, True),
    ("teleservice_call", 50_000, False), ("teleservice_call", 50_001, True),
])
def test_budget_meter_reads_the_catalogue_bounds_as_the_contract_does(
        key: str, size: int, over: bool) -> None:
    """The meter's reading at the boundary of the real rows: "< 1 KB" puts 1,000 B over,
    "max 50 KB" keeps 50,000 B within (docs/requirements.md#conv-bounds)."""
    verdict = judge(entry(key), size=size, used_in_period=0)
    assert (verdict.reason == "message_over_budget") == over
