"""One reading of a documented size bound: "< X" exclusive, "max X" inclusive, the same
for the car's contract checks, the relay and the meter (docs/requirements.md#conv-bounds)."""

from __future__ import annotations

import pytest

from backend.privacy.budget_meter import message_bound
from protocols.assistance import ASSISTANCE_CALL_BOUND
from protocols.catalogue import CATALOGUE, entry
from protocols.catalogue_model import CatalogueEntry
from protocols.envelope import ECALL_ENVELOPE_BOUND, pack, unpack
from protocols.errors import EnvelopeError
from protocols.hv import HV_CALL_BOUND
from protocols.msd.codec import encode_msd
from protocols.size_bounds import SizeBound, check_within, within
from protocols.teleservice import TELESERVICE_BOUND
from tests.backend.support import make_msd
from tests.sized_ecall import framed, intelligent_ecall_of_size

VIN = "WMW21DH0X0T123451"


def test_size_bounds_exclusive_bound_puts_x_itself_over() -> None:
    """ "< 1 KB": 999 B within, 1,000 B and 1,001 B over."""
    bound = SizeBound(1_000, exclusive=True)
    assert [within(bound, n) for n in (999, 1_000, 1_001)] == [True, False, False]
    assert bound.largest == 999


def test_size_bounds_inclusive_bound_keeps_x_within() -> None:
    """ "max 50 KB": 50,000 B within, 50,001 B over."""
    bound = SizeBound(50_000, exclusive=False)
    assert [within(bound, n) for n in (49_999, 50_000, 50_001)] == [True, True, False]


def test_size_bounds_refusal_names_field_and_rule() -> None:
    bound = SizeBound(10, exclusive=True, rule="under 10 B (test)")
    check_within(bound, 9, field="payload")
    with pytest.raises(EnvelopeError) as refused:
        check_within(bound, 10, field="payload")
    assert (refused.value.field, refused.value.rule) == ("payload", "under 10 B (test)")


def test_size_bounds_a_bound_with_nothing_within_is_refused() -> None:
    with pytest.raises(ValueError):
        SizeBound(0, exclusive=True)


@pytest.mark.parametrize(("size", "packs"), [(999, True), (1_000, False), (1_001, False)])
def test_size_bounds_car_packs_an_ecall_only_under_one_kilobyte(size: int, packs: bool) -> None:
    """The car's check: a 1,000-byte eCall envelope breaks "< 1 KB" and is not sent."""
    message = intelligent_ecall_of_size(VIN, "inc", encode_msd(make_msd(VIN)), size)
    if packs:
        assert len(pack(message)) == size
        return
    with pytest.raises(EnvelopeError) as refused:
        pack(message)
    assert "1 KB" in refused.value.rule
    assert unpack(framed(message)) == message  # a receiver still reads it (flagged there)


@pytest.mark.parametrize(("key", "bound"), [
    ("ecall_intelligent", ECALL_ENVELOPE_BOUND),
    ("ecall_legal", ECALL_ENVELOPE_BOUND),
    ("hv_warn_call", HV_CALL_BOUND),
    ("roadside_assistance", ASSISTANCE_CALL_BOUND),
    ("accident_assistance", ASSISTANCE_CALL_BOUND),
    ("teleservice_call", TELESERVICE_BOUND),
    ("smart_maintenance", TELESERVICE_BOUND),
])
def test_size_bounds_contract_and_meter_read_the_catalogue_figure_alike(
        key: str, bound: SizeBound) -> None:
    """The bound the car and the relay check is the bound the meter reads off the row."""
    budget = entry(key).budget
    assert budget is not None
    metered = message_bound(budget)
    assert metered is not None
    assert (metered.limit, metered.exclusive) == (bound.limit, bound.exclusive)


@pytest.mark.parametrize("row", [e for e in CATALOGUE
                                 if e.budget is not None
                                 and e.budget.per_message_bytes is not None
                                 and not e.budget.approx], ids=lambda e: e.key)
def test_size_bounds_catalogue_message_over_agrees_with_within(row: CatalogueEntry) -> None:
    """``VolumeBudget.message_over`` says what ``within`` says at X - 1, X and X + 1."""
    budget = row.budget
    assert budget is not None
    bound = message_bound(budget)
    assert bound is not None
    for size in (bound.limit - 1, bound.limit, bound.limit + 1):
        assert budget.message_over(size) == (not within(bound, size))
