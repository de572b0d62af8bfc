"""Injected bad messages are refused and counted, and the customer's switches hold, end to
end through ``telematics up --once``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_default_scenario import _env, _telematics

pytestmark = pytest.mark.e2e


def _run(name: str, tmp_path: Path) -> dict[str, object]:
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", name, "--report", str(report),
                       "--run-dir", str(tmp_path / "run"), cwd=tmp_path, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    data: dict[str, object] = json.loads(report.read_text())
    return data


def _reasons(data: dict[str, object]) -> dict[str, str]:
    expectations = data["expectations"]
    assert isinstance(expectations, list)
    return {e["vehicle"]: e["reason"] for e in expectations if e["ok"]}


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_refusals_are_counted_and_the_run_goes_on(tmp_path: Path) -> None:
    """Over-size, malformed and wrong-VIN messages are each refused by their rule, in
    the budget view and the error counters; the Teleservice call and the eCall sent
    after them arrive."""
    data = _run("refusals", tmp_path)
    assert data["passed"] is True
    reasons = _reasons(data)
    assert set(reasons) == {"sender", "budgets", "rejections"}
    assert "vin:record vin == topic vin" in reasons["rejections"]


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_consent_switches_hold_from_their_moment(tmp_path: Path) -> None:
    """No distance call while the transfer is off; Legal eCall once Intelligent is off."""
    data = _run("consent", tmp_path)
    assert data["passed"] is True
    incidents = data["incidents"]
    assert isinstance(incidents, list)
    assert [(i["vehicle"], i["variant"]) for i in incidents] == [("intelligent-off", "legal")]
    assert _reasons(data)["transfer-off"] == "Teleservice calls ['service_need']"
