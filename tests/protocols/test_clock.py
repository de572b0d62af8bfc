"""The clock abstraction: virtual time arithmetic, jumps, following, and instants as text."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.clock import (
    FORWARD_RULE,
    NS_PER_S,
    ClockState,
    RealClock,
    VirtualClock,
    advanced,
    moved_to,
    parse_instant,
    rescaled,
    virtual_now,
)
from protocols.errors import EnvelopeError, ProtocolError

MARCH_1 = 1_772_352_000.0  # 2026-03-01T08:00:00Z
REAL_0 = 1_700_000_000 * NS_PER_S


class FakeRealTime:
    """A real-time source the test moves by hand."""

    def __init__(self, ns: int = REAL_0) -> None:
        self.ns = ns

    def __call__(self) -> int:
        return self.ns

    def wait(self, seconds: float) -> None:
        self.ns += round(seconds * NS_PER_S)


def _state(*, scale: float = 1.0, seq: int = 0) -> ClockState:
    return ClockState(virtual_anchor=MARCH_1, real_anchor_ns=REAL_0, scale=scale, seq=seq)


@given(elapsed_ns=st.integers(0, 10**15), scale=st.floats(0.0, 1e6))
def test_virtual_now_is_anchor_plus_scaled_real_time(elapsed_ns: int, scale: float) -> None:
    """Virtual time is the anchor plus the real time since, times the scale."""
    expected = MARCH_1 + elapsed_ns / NS_PER_S * scale
    assert virtual_now(_state(scale=scale), REAL_0 + elapsed_ns) == pytest.approx(expected)


def test_virtual_now_at_scale_60_runs_a_minute_per_second() -> None:
    """One real second at scale 60 is one virtual minute."""
    assert virtual_now(_state(scale=60.0), REAL_0 + NS_PER_S) == MARCH_1 + 60.0


def test_virtual_now_holds_when_real_time_steps_back() -> None:
    """A real clock stepping back (NTP) holds virtual time at the anchor."""
    assert virtual_now(_state(scale=10.0), REAL_0 - 5 * NS_PER_S) == MARCH_1


def test_virtual_now_frozen_clock_stands_still() -> None:
    """Scale 0 freezes virtual time however much real time passes."""
    assert virtual_now(_state(scale=0.0), REAL_0 + 3600 * NS_PER_S) == MARCH_1


def test_advanced_jumps_forward_and_bumps_seq() -> None:
    """A 28-day jump re-anchors at now + 28 days with the next seq."""
    later = REAL_0 + 2 * NS_PER_S
    jumped = advanced(_state(scale=2.0), 28 * 86_400.0, later)
    assert jumped == ClockState(virtual_anchor=MARCH_1 + 4.0 + 28 * 86_400.0,
                                real_anchor_ns=later, scale=2.0, seq=1)
    assert virtual_now(jumped, later + NS_PER_S) == MARCH_1 + 6.0 + 28 * 86_400.0


@pytest.mark.parametrize("seconds", [-1.0, math.inf, math.nan])
def test_advanced_refuses_negative_or_infinite_jump(seconds: float) -> None:
    """Only finite forward jumps exist."""
    with pytest.raises(ProtocolError, match=FORWARD_RULE):
        advanced(_state(), seconds, REAL_0)


def test_moved_to_sets_a_later_instant() -> None:
    """Moving to a later instant re-anchors there."""
    moved = moved_to(_state(), MARCH_1 + 86_400.0, REAL_0 + NS_PER_S)
    assert (moved.virtual_anchor, moved.real_anchor_ns, moved.seq) == (
        MARCH_1 + 86_400.0, REAL_0 + NS_PER_S, 1)


def test_moved_to_refuses_going_backwards() -> None:
    """Moving into the past is refused, naming the rule and both instants."""
    with pytest.raises(ProtocolError, match=FORWARD_RULE) as info:
        moved_to(_state(), MARCH_1 - 1.0, REAL_0)
    assert info.value.field == "epoch"
    assert "2026-03-01T07:59:59" in str(info.value)


def test_rescaled_keeps_the_instant_and_changes_the_rate() -> None:
    """Rescaling at an instant keeps virtual time continuous."""
    at = REAL_0 + 10 * NS_PER_S
    fast = rescaled(_state(), 3600.0, at)
    assert virtual_now(fast, at) == MARCH_1 + 10.0
    assert virtual_now(fast, at + NS_PER_S) == MARCH_1 + 10.0 + 3600.0
    assert fast.seq == 1


def test_rescaled_refuses_negative_scale() -> None:
    """Virtual time cannot run backwards by rate either."""
    with pytest.raises(ProtocolError, match="scale"):
        rescaled(_state(), -1.0, REAL_0)


@pytest.mark.parametrize(("field", "value"), [
    ("scale", -0.5), ("scale", math.inf), ("seq", -1), ("real_anchor_ns", -1),
    ("virtual_anchor", math.nan),
])
def test_clock_state_refuses_invalid_fields(field: str, value: float) -> None:
    """A clock state from the wire is checked when built and names the field."""
    values: dict[str, Any] = {field: value}
    with pytest.raises(EnvelopeError) as info:
        replace(_state(), **values)
    assert info.value.field == field


def test_virtual_clock_advance_move_and_scale() -> None:
    """The leader's clock follows its own changes and returns each state to announce."""
    real = FakeRealTime()
    clock = VirtualClock.starting_at(MARCH_1, scale=60.0, real_ns=real)
    real.wait(1.0)
    assert clock.now() == MARCH_1 + 60.0
    announced = clock.advance(28 * 86_400.0)
    assert clock.state == announced and announced.seq == 1
    assert clock.now() == MARCH_1 + 60.0 + 28 * 86_400.0
    clock.move_to(MARCH_1 + 60 * 86_400.0)
    clock.set_scale(0.0)
    real.wait(100.0)
    assert clock.now() == MARCH_1 + 60 * 86_400.0
    assert clock.state.seq == 3


def test_virtual_clock_follow_ignores_stale_announcements() -> None:
    """A follower adopts newer states and ignores older or repeated ones."""
    real = FakeRealTime()
    leader = VirtualClock.starting_at(MARCH_1, real_ns=real)
    first = leader.advance(86_400.0)
    second = leader.advance(86_400.0)
    follower = VirtualClock(first, real_ns=real)
    assert follower.follow(second) is True
    assert follower.follow(first) is False
    assert follower.follow(second) is False
    assert follower.now() == leader.now() == MARCH_1 + 2 * 86_400.0


def test_virtual_clock_following_adopts_the_first_announcement() -> None:
    """A follower started before the leader tells real time, then takes seq 0."""
    real = FakeRealTime()
    follower = VirtualClock.following(real_ns=real)
    assert follower.now() == REAL_0 / NS_PER_S
    leader = VirtualClock.starting_at(MARCH_1, real_ns=real)
    assert follower.follow(leader.state) is True
    assert follower.now() == MARCH_1
    assert follower.follow(leader.state) is False


def test_virtual_clock_move_to_refuses_the_past() -> None:
    """The leader cannot rewind either; its state stays as it was."""
    clock = VirtualClock.starting_at(MARCH_1, real_ns=FakeRealTime())
    with pytest.raises(ProtocolError, match=FORWARD_RULE):
        clock.move_to(MARCH_1 - 3600.0)
    assert clock.state.seq == 0


def test_real_clock_tells_epoch_seconds() -> None:
    """RealClock is wall time in epoch seconds."""
    assert RealClock().now() > 1_700_000_000.0


@pytest.mark.parametrize(("text", "epoch"), [
    ("2026-03-01T08:00", MARCH_1), ("2026-03-01T08:00:00Z", MARCH_1),
    ("2026-03-01T09:00+01:00", MARCH_1), ("2026-03-01", MARCH_1 - 8 * 3600.0),
])
def test_parse_instant_reads_iso_8601_with_utc_default(text: str, epoch: float) -> None:
    """Without an offset an instant is UTC."""
    assert parse_instant(text) == epoch


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-13-01T08:00", "01/03/2026"])
def test_parse_instant_refuses_other_text(text: str) -> None:
    """An error names the text and the accepted forms."""
    with pytest.raises(ProtocolError, match="ISO 8601") as info:
        parse_instant(text)
    assert repr(text) in str(info.value)
