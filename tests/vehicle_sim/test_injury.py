"""Crash description and the AACN injury model: monotonicity, triage flag, extras size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.envelope import ECALL_ENVELOPE_MAX, EcallMessage, pack
from vehicle_sim.crash import CRASH_DIRECTIONS, CrashDirection, CrashPulse, Occupancy
from vehicle_sim.injury import (
    MODEL_ID,
    TRIAGE_THRESHOLD,
    intelligent_extras,
    is_triage,
    p_serious_injury,
    severity,
)

BELTED = Occupancy.from_belts([True], seats=5)
UNBELTED = Occupancy.from_belts([False], seats=5)


def _pulse(delta_v_kmh: float, direction: CrashDirection = "frontal", *,
           multiple: bool = False, rollover: bool = False) -> CrashPulse:
    return CrashPulse(delta_v_kmh=delta_v_kmh, principal_direction=direction,
                      multiple_impacts=multiple, rollover=rollover)


def test_crash_pulse_rejects_negative_delta_v() -> None:
    """A negative delta-V is a sensor fault, not a crash."""
    with pytest.raises(ValueError, match="delta_v_kmh"):
        _pulse(-1.0)


def test_occupancy_from_belts_counts_only_taken_seats() -> None:
    """Occupants sit in the first seats; free seats are neither taken nor belted."""
    occupancy = Occupancy.from_belts([True, False, True], seats=5)
    assert (occupancy.seats, occupancy.occupants, occupancy.belted_occupants) == (5, 3, 2)
    assert not occupancy.all_belted


def test_occupancy_buckled_empty_seat_is_not_belted() -> None:
    """A belt buckled on an empty seat protects nobody."""
    occupancy = Occupancy(taken=(True, False), belted=(True, True))
    assert occupancy.belted_occupants == 1 and occupancy.all_belted


def test_occupancy_from_belts_rejects_more_occupants_than_seats() -> None:
    """Six occupants in a five-seat car is a scenario error, reported as such."""
    with pytest.raises(ValueError, match="seats"):
        Occupancy.from_belts([True] * 6, seats=5)


@given(low=st.floats(min_value=0, max_value=150), step=st.floats(min_value=0.5, max_value=50),
       direction=st.sampled_from(CRASH_DIRECTIONS), belted=st.booleans(),
       multiple=st.booleans())
def test_p_serious_injury_monotonic_in_delta_v(low: float, step: float,
                                               direction: CrashDirection, belted: bool,
                                               multiple: bool) -> None:
    """A harder crash never lowers the predicted risk."""
    occupancy = BELTED if belted else UNBELTED
    p_low = p_serious_injury(_pulse(low, direction, multiple=multiple), occupancy)
    p_high = p_serious_injury(_pulse(low + step, direction, multiple=multiple), occupancy)
    assert 0.0 <= p_low <= p_high <= 1.0


@given(delta_v=st.floats(min_value=0, max_value=200), direction=st.sampled_from(CRASH_DIRECTIONS))
def test_p_serious_injury_higher_unbelted(delta_v: float, direction: CrashDirection) -> None:
    """Without a belt the risk is at least as high, and strictly so in the model's range."""
    pulse = _pulse(delta_v, direction)
    assert p_serious_injury(pulse, UNBELTED) >= p_serious_injury(pulse, BELTED)
    if delta_v < 150:
        assert p_serious_injury(pulse, UNBELTED) > p_serious_injury(pulse, BELTED)


def test_p_serious_injury_one_unbelted_occupant_counts() -> None:
    """One unbelted occupant makes the vehicle as risky as an all-unbelted one."""
    pulse = _pulse(50.0)
    mixed = Occupancy.from_belts([True, False], seats=5)
    assert p_serious_injury(pulse, mixed) == p_serious_injury(pulse, UNBELTED)


def test_p_serious_injury_direction_order() -> None:
    """At equal delta-V: near side > far side > frontal > rear."""
    risks = [p_serious_injury(_pulse(48.0, d), BELTED)
             for d in ("near_side", "far_side", "frontal", "rear")]
    assert risks == sorted(risks, reverse=True) and len(set(risks)) == 4


def test_p_serious_injury_multiple_impacts_and_age_raise_risk() -> None:
    """A second impact and an occupant aged 55+ each raise the risk."""
    base = p_serious_injury(_pulse(40.0), BELTED)
    assert p_serious_injury(_pulse(40.0, multiple=True), BELTED) > base
    assert p_serious_injury(_pulse(40.0), BELTED, older_occupant=True) > base


def test_p_serious_injury_rollover_scored_as_near_side() -> None:
    """Rollovers lie outside the planar model and get the worst planar term."""
    assert p_serious_injury(_pulse(30.0, "frontal", rollover=True), BELTED) == \
        p_serious_injury(_pulse(30.0, "near_side"), BELTED)


def test_p_serious_injury_empty_vehicle_is_zero() -> None:
    """Nobody on board, nobody to injure."""
    assert p_serious_injury(_pulse(90.0), Occupancy.from_belts([], seats=5)) == 0.0


def test_is_triage_at_threshold() -> None:
    """The flag is set at exactly 20 % and not just below."""
    assert TRIAGE_THRESHOLD == 0.20
    assert is_triage(0.20)
    assert not is_triage(0.1999)


def test_intelligent_extras_triage_follows_probability() -> None:
    """A hard unbelted frontal crash is flagged; a light belted one is not."""
    hard = intelligent_extras(_pulse(70.0), UNBELTED)
    light = intelligent_extras(_pulse(20.0), BELTED)
    assert hard.triage and hard.p_serious_injury >= TRIAGE_THRESHOLD
    assert not light.triage and light.p_serious_injury < TRIAGE_THRESHOLD


@given(delta_v=st.floats(min_value=0, max_value=200), direction=st.sampled_from(CRASH_DIRECTIONS),
       belted=st.booleans())
def test_intelligent_extras_flag_matches_reported_probability(
        delta_v: float, direction: CrashDirection, belted: bool) -> None:
    """The desk never sees a probability and a triage flag that disagree."""
    extras = intelligent_extras(_pulse(delta_v, direction), BELTED if belted else UNBELTED)
    assert extras.triage == (extras.p_serious_injury >= TRIAGE_THRESHOLD)


def test_intelligent_extras_fields() -> None:
    """Extras carry occupants, belts, the pulse, the severity class and the model id."""
    extras = intelligent_extras(_pulse(56, multiple=True),
                                Occupancy.from_belts([True, False], seats=5))
    assert (extras.occupants, extras.belted) == (2, 1)
    assert extras.delta_v_kmh == 56.0 and isinstance(extras.delta_v_kmh, float)
    assert extras.principal_direction == "frontal" and extras.multiple_impacts
    assert extras.severity == "severe" and extras.model == MODEL_ID


@pytest.mark.parametrize(("delta_v", "expected"), [
    (0.0, "minor"), (24.0, "minor"), (24.2, "moderate"), (48.2, "moderate"),
    (48.3, "severe"), (120.0, "severe"),
])
def test_severity_bands_at_15_and_30_mph(delta_v: float, expected: str) -> None:
    """Bands: minor below 15 mph (24.14 km/h), severe from 30 mph (48.28 km/h)."""
    assert severity(_pulse(delta_v)) == expected


def test_intelligent_extras_packed_envelope_under_1kb() -> None:
    """A worst-case Intelligent eCall envelope (255 seats, 140-byte MSD) fits in 1 KB."""
    occupancy = Occupancy.from_belts([False] * 255, seats=255)
    extras = intelligent_extras(_pulse(199.99, "near_side", multiple=True, rollover=True),
                                occupancy)
    message = EcallMessage("intelligent", "WMW21DH0X0T123451", "x" * 64, 255, bytes(140),
                           2**63 - 1, "BE", extras)
    assert len(pack(message)) < ECALL_ENVELOPE_MAX
