"""The chaos plan: fault lists, durations, pids and the phase timings."""

from __future__ import annotations

import pytest

from chaos.errors import PlanError
from chaos.plan import FAULTS, ChaosPlan, parse_faults, parse_pids, parse_seconds, phase_timing


def test_parse_faults_all_is_every_fault_in_default_order() -> None:
    """'all' names every fault, the service restarts last and their crashes after them."""
    assert parse_faults("all") == FAULTS
    assert FAULTS[-4:] == ("redis_restart", "broker_restart", "redis_kill", "broker_kill")


def test_parse_faults_keeps_the_given_order() -> None:
    """A list runs in the order given, spaces ignored, repeats allowed."""
    assert parse_faults(" slow_redis, kill_desk ,slow_redis") == (
        "slow_redis", "kill_desk", "slow_redis")


def test_parse_faults_unknown_name_is_named() -> None:
    """An unknown fault is a PlanError naming it and the known ones."""
    with pytest.raises(PlanError, match=r"'kill_all'.*kill_emergency") as info:
        parse_faults("kill_desk,kill_all")
    assert info.value.option == "--faults"


def test_parse_faults_empty_is_refused() -> None:
    """An empty list is refused rather than running nothing."""
    with pytest.raises(PlanError, match="empty"):
        parse_faults(" , ")


@pytest.mark.parametrize(("text", "seconds"), [("20", 20.0), ("20s", 20.0), ("500ms", 0.5),
                                               ("1min", 60.0), ("1.5", 1.5)])
def test_parse_seconds_accepts_duration_forms(text: str, seconds: float) -> None:
    """Bare seconds and unit forms are read as seconds."""
    assert parse_seconds(text, option="--duration") == seconds


@pytest.mark.parametrize("text", ["", "soon", "20 parsecs", "-3s"])
def test_parse_seconds_rejects_other_text(text: str) -> None:
    """Anything else is a PlanError for the option."""
    with pytest.raises(PlanError, match="--duration"):
        parse_seconds(text, option="--duration")


def test_chaos_plan_duration_out_of_range_is_refused() -> None:
    """A phase shorter than 2 s or longer than 10 min is refused."""
    with pytest.raises(PlanError, match="--duration"):
        ChaosPlan(duration_s=1.0)
    with pytest.raises(PlanError, match="--duration"):
        ChaosPlan(duration_s=601.0)


@pytest.mark.parametrize("rate", [0.0, -1.0, 501.0])
def test_chaos_plan_rate_out_of_range_is_refused(rate: float) -> None:
    """The rate must be in (0, 500] eCalls/s."""
    with pytest.raises(PlanError, match="--rate"):
        ChaosPlan(rate=rate)


def test_phase_timing_scales_with_duration() -> None:
    """A quarter steady, a quarter held, the rest recovery; the drain outlasts two timers."""
    timing = phase_timing(20.0, 10.0, held=True)
    assert (timing.steady_s, timing.hold_s, timing.recover_s) == (5.0, 5.0, 10.0)
    assert timing.drain_max_s > 2 * 10.0


def test_phase_timing_instant_fault_recovers_for_the_rest() -> None:
    """A fault that is not held (a kill, a restart) has the same traffic, no hold."""
    timing = phase_timing(20.0, 10.0, held=False)
    assert (timing.steady_s, timing.hold_s, timing.recover_s) == (5.0, 0.0, 15.0)


def test_phase_timing_holds_at_least_a_second() -> None:
    """A short phase still holds its fault for a second."""
    timing = phase_timing(2.0, 1.0, held=True)
    assert timing.hold_s == 1.0
    assert timing.steady_s + timing.hold_s + timing.recover_s == pytest.approx(2.0)


def test_parse_pids_reads_role_pid_pairs() -> None:
    """ROLE=PID items map backend roles to pids."""
    assert parse_pids(["emergency=101", "desks=202"]) == {"emergency": 101, "desks": 202}


@pytest.mark.parametrize("item", ["emergency", "mosquitto=5", "desks=x", "desks=0", "=5"])
def test_parse_pids_rejects_bad_items(item: str) -> None:
    """A missing '=', an unknown role or a bad pid is a PlanError for --pid."""
    with pytest.raises(PlanError, match="--pid"):
        parse_pids([item])
