"""The eCall benchmark's verdict on the aim: a p99 bound, a bound against the floor, no loss."""

from __future__ import annotations

from bench.ecall import TARGET_FLOOR_RATIO, TARGET_P99_IDLE_MS, meets_aim


def _phase(p99_ms: float | None, lost: int = 0) -> dict[str, object]:
    return {"p99_ms": p99_ms, "lost": lost}


def test_meets_aim_needs_the_bound_the_floor_ratio_and_nothing_lost() -> None:
    floor = TARGET_P99_IDLE_MS / TARGET_FLOOR_RATIO
    assert meets_aim(_phase(TARGET_P99_IDLE_MS), TARGET_P99_IDLE_MS, floor)
    assert not meets_aim(_phase(TARGET_P99_IDLE_MS + 0.01), TARGET_P99_IDLE_MS, floor)
    assert not meets_aim(_phase(1.0), TARGET_P99_IDLE_MS, 1.0 / (TARGET_FLOOR_RATIO + 0.5))
    assert not meets_aim(_phase(1.0, lost=1), TARGET_P99_IDLE_MS, floor)
    assert not meets_aim(_phase(None), TARGET_P99_IDLE_MS, floor)
    assert not meets_aim(_phase(1.0), TARGET_P99_IDLE_MS, None)
