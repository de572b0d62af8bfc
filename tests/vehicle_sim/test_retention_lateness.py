"""A late deletion is named by the retention expectation, so the auditor can find it."""

from __future__ import annotations

from typing import Any

from vehicle_sim.expectations import _retention_problems
from vehicle_sim.scenario import RetentionExpectDef

DAY = 86_400.0
JAN_10 = 1_768_003_200.0  # 2026-01-10T00:00:00Z


def _audit(ref: str, *, late_days: float) -> dict[str, Any]:
    return {"reason": "deadline", "service": "teleservice_call", "ref": ref,
            "written_at": str(JAN_10 - 56 * DAY), "deadline": str(JAN_10),
            "deleted_at": str(JAN_10 + late_days * DAY)}


def test_late_deletions_are_counted_and_the_worst_is_named() -> None:
    expect = RetentionExpectDef.model_validate({"max_lateness": "1d"})
    report = {"overdue": 0, "services": [], "never_stored": []}
    audit = [_audit("sp:call:A:1", late_days=0.5), _audit("sp:call:B:7", late_days=3),
             _audit("sp:call:C:2", late_days=1.5)]
    [problem] = _retention_problems(expect, report, audit)
    assert problem.startswith("2 deletions came late, up to 3.0 d (teleservice_call "
                              "sp:call:B:7 written 2025-11-15 00:00:00, due 2026-01-10 "
                              "00:00:00, deleted 2026-01-13 00:00:00; teleservice_call "
                              "sp:call:C:2")


def test_deletions_within_the_bound_are_not_problems() -> None:
    expect = RetentionExpectDef.model_validate({"max_lateness": "1d"})
    report = {"overdue": 0, "services": [], "never_stored": []}
    assert _retention_problems(expect, report, [_audit("sp:call:A:1", late_days=0.9)]) == []
