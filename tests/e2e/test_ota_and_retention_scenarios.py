"""The shipped OTA and retention scenarios pass end to end through ``telematics up --once``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_default_scenario import _env, _telematics

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def _run(name: str, tmp_path: Path) -> dict[str, object]:
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", name, "--report", str(report),
                       "--run-dir", str(tmp_path / "run"), cwd=tmp_path, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    data: dict[str, object] = json.loads(report.read_text())
    assert data["passed"] is True
    return data


def _reasons(data: dict[str, object]) -> dict[str, str]:
    expectations = data["expectations"]
    assert isinstance(expectations, list)
    return {e["vehicle"]: e["reason"] for e in expectations}


def test_ota_rollout_pauses_at_the_wave_error_threshold(tmp_path: Path) -> None:
    reasons = _reasons(_run("ota_rollout", tmp_path))
    assert reasons["campaign se-24-03"].startswith("paused (error_threshold)")
    assert "download_interrupted" in reasons["se-01"]
    assert reasons["petrol"] == "never offered an update"


@pytest.mark.parametrize("name", ["ota_low_battery", "ota_during_ecall", "ota_failed_install"])
def test_ota_scenario_holds(name: str, tmp_path: Path) -> None:
    data = _run(name, tmp_path)
    expectations = data["expectations"]
    assert isinstance(expectations, list) and len(expectations) >= 2
    assert all(e["ok"] for e in expectations)


def test_retention_13_months_deletes_on_time_and_stores_no_legal_ecall(
        tmp_path: Path) -> None:
    """Thirteen months in virtual time: every deletion on its day, nothing overdue, no
    Legal eCall stored, no budget broken, the fleet's Teleservice calls deleted with their
    closed cases or once superseded; the report is part of the JSON summary."""
    data = _run("retention_13_months", tmp_path)
    retention = data["retention"]
    assert isinstance(retention, dict)
    assert retention["overdue"] == 0
    rows = {r["service"]: r for r in retention["services"]}
    for service in ("ecall_intelligent", "ecall_intelligent_extended", "hv_warn_call",
                    "roadside_assistance"):
        assert (rows[service]["deleted"], rows[service]["held"]) == (1, 0)
    assert {r["service"]: r["held"] for r in retention["never_stored"]} == {
        "ecall_legal": 0, "ecall_psap": 0}
    teleservice = rows["teleservice_call"]  # TS-R5: the fleet's calls go, none piles up
    assert teleservice["deleted"] >= 500
    assert teleservice["held"] < teleservice["deleted"] / 3
