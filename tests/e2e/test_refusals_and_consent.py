"""Injected bad messages are refused and counted, and the customer's switches hold, end to
end through ``telematics up --once``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protocols.teleservice import TELESERVICE_MAX_BYTES, TELESERVICE_RULE
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
    """Over-size, malformed, wrong-VIN and QoS 0 safety messages are each refused by their
    rule, in the budget view and the error counters, and the car is told of each; the
    Teleservice call and the eCall sent after them arrive."""
    data = _run("refusals", tmp_path)
    assert data["passed"] is True
    reasons = _reasons(data)
    assert set(reasons) == {"sender", "budgets", "rejections"}
    assert "vin:record vin == topic vin" in reasons["rejections"]
    assert "qos:safety_needs_qos1" in reasons["rejections"]
    assert "answered to the cars" in reasons["rejections"]


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_consent_switches_hold_from_their_moment(tmp_path: Path) -> None:
    """No distance call while the transfer is off; Legal eCall once Intelligent is off."""
    data = _run("consent", tmp_path)
    assert data["passed"] is True
    incidents = data["incidents"]
    assert isinstance(incidents, list)
    assert [(i["vehicle"], i["variant"]) for i in incidents] == [("intelligent-off", "legal")]
    assert _reasons(data)["transfer-off"] == "Teleservice calls ['service_need']"


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_refused_call_is_in_the_summary_and_the_json_report(tmp_path: Path) -> None:
    """A fault step with thousands of codes: the car's refusal, with its rule, is a line
    of the printed summary and an entry of the ``--report`` JSON."""
    codes = ", ".join(f"P{n:04d}" for n in range(TELESERVICE_MAX_BYTES // 5))
    scenario = tmp_path / "oversize.yaml"
    scenario.write_text(
        "name: oversize\nstart: 2026-03-10T08:00\nvehicles:\n"
        "  - {id: big, vin: WMW71DH0X0T700091, position: {lat: 51.2194, lon: 4.4025},"
        " activation_country: BE, odometer_km: 10000}\n"
        f"events:\n  - {{at: 0.1s, vehicle: big, fault: {{codes: [{codes}]}}}}\n")
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", str(scenario), "--report", str(report),
                       "--run-dir", str(tmp_path / "run"), cwd=tmp_path,
                       env={**_env(), "COLUMNS": "400"})
    assert done.returncode == 0, done.stdout + done.stderr
    (refused,) = json.loads(report.read_text())["refusals"]
    assert refused["vehicle"] == "big"
    assert TELESERVICE_RULE in refused["refusal"]
    printed = " ".join(done.stdout.split())  # the summary wraps at the console's width
    assert f"REFUSED {refused['refusal']}" in printed
