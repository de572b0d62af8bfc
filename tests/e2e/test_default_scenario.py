"""``telematics up --once`` runs the default scenario end to end and reports truthfully."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.local_services import (
    MQTT_URL_ENV,
    PSAP_REDIS_URL_ENV,
    PSAP_RELAY_REDIS_URL_ENV,
    REDIS_URL_ENV,
)
from protocols.teleservice import TELESERVICE_MAX_BYTES, TELESERVICE_RULE

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _telematics(*args: str, cwd: Path, env: dict[str, str],
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it; a test's ``up`` takes any free API port, never 8080,
    which a developer's own ``up`` may hold, or another ``up`` starting at the same time."""
    if args[:1] == ("up",) and "--api-port" not in args:
        args = (*args, "--api-port", "0")
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _env() -> dict[str, str]:
    """The command starts its own secure broker and both Redis instances in the test's run
    directory (as `make run` does), so a car's certificate comes from that run's own CA."""
    env = {k: v for k, v in os.environ.items()
           if k not in (MQTT_URL_ENV, REDIS_URL_ENV, PSAP_REDIS_URL_ENV, PSAP_RELAY_REDIS_URL_ENV)}
    return {**env, "PYTHONPATH": str(ROOT)}


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_up_once_default_scenario_holds(tmp_path: Path) -> None:
    """Every branch of the default scenario reaches the expected party, within 100 ms."""
    env = _env()
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--report", str(report), "--run-dir",
                       str(tmp_path / "run"), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["passed"] is True
    by_vehicle = {i["vehicle"]: i for i in data["incidents"]}
    assert by_vehicle["be-crash"]["route"] == "callcentre -> psap-BE"
    assert by_vehicle["de-fallback"]["variant"] == "legal"
    assert [a["variant"] for a in by_vehicle["de-fallback"]["attempts"]] == ["intelligent",
                                                                             "legal"]
    assert by_vehicle["si-in-serbia"]["received_by"] == "psap-INTL"
    assert by_vehicle["lu-no-data"]["voice_call_country"] == "LU"
    for vehicle in ("be-crash", "nl-sos", "de-fallback", "be-in-france"):
        assert 0 < by_vehicle[vehicle]["latency_ms"] < 100
    assert "all expectations hold" in done.stdout


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_up_once_failed_expectation_exits_non_zero(tmp_path: Path) -> None:
    """A scenario whose expectation cannot hold exits 1 and says why."""
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "name: wrong\nack_timeout_s: 1s\nvehicles:\n"
        "  - {id: a, vin: WMW21DH0X0T999991, position: {lat: 50.85, lon: 4.35},"
        " activation_country: BE, intelligent_ecall: {bought: false}}\n"
        "events:\n  - {at: 0.1, vehicle: a, sos: {}}\n"
        "expect:\n  - {vehicle: a, variant: legal, desk: psap-NL}\n")
    env = _env()
    done = _telematics("up", "--once", "--scenario", str(scenario), "--run-dir",
                       str(tmp_path / "run"), cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "FAIL a: desk psap-NL never received" in done.stdout


def test_up_unknown_scenario_exits_two(tmp_path: Path) -> None:
    """A scenario name that does not exist is a usage error naming the shipped ones, on
    stderr: stdout carries only what the command reports."""
    done = _telematics("up", "--once", "--scenario", "nope", cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    assert "default" in done.stderr and not done.stdout


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_up_once_hv_thermal_parked_reaches_callcentre_and_psap(
        tmp_path: Path) -> None:
    """HV-R2: parked BEV and PHEV thermal events reach the call centre, then the PSAP."""
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", "hv_thermal_parked", "--report",
                       str(report), "--run-dir", str(tmp_path / "run"), cwd=tmp_path,
                       env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    routes = {i["vehicle"]: i["route"] for i in data["incidents"]}
    assert routes == {"bev-charging": "callcentre -> psap-BE",
                      "phev-parked": "callcentre -> psap-SI"}
    # The contact comes from the customer profile the scenario registered (HV-R2).
    reasons = {e["vehicle"]: e["reason"] for e in data["expectations"]}
    assert reasons["bev-charging"].endswith("contact Sofie Janssens")
    assert reasons["phev-parked"].endswith("contact missing (no profile contact)")


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
@pytest.mark.parametrize("scenario", ["teleservice_month", "breakdown_abroad"])
def test_up_once_services_scenario_holds(scenario: str, tmp_path: Path) -> None:
    """The Teleservice and assistance scenarios pass their expectations end to end."""
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", scenario, "--report", str(report),
                       "--run-dir", str(tmp_path / "run"), cwd=tmp_path,
                       env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["passed"] is True
    assert data["expectations"]
    assert all(e["ok"] for e in data["expectations"])


@pytest.mark.broker  # `up` starts its own Mosquitto and Redis
def test_up_once_oversize_fault_step_is_refused_and_the_run_goes_on(tmp_path: Path) -> None:
    """Thousands of fault codes: the car refuses the call with its rule shown as a warning,
    the drive after it still brings its distance call, and the expectations are judged."""
    codes = ", ".join(f"P{n:04d}" for n in range(TELESERVICE_MAX_BYTES // 5))
    scenario = tmp_path / "oversize.yaml"
    scenario.write_text(
        "name: oversize\nstart: 2026-03-10T08:00\nsettle_timeout_s: 30s\nvehicles:\n"
        "  - {id: big, vin: WMW71DH0X0T700077, position: {lat: 51.2194, lon: 4.4025},"
        " activation_country: BE, odometer_km: 10000}\n"
        "events:\n"
        f"  - {{at: 0.1s, vehicle: big, fault: {{codes: [{codes}]}}}}\n"
        "  - {at: 0.3s, vehicle: big, drive: {km: 1000}}\n"
        "expect_services:\n  - {vehicle: big, teleservice_calls: [distance_1000km]}\n")
    done = _telematics("up", "--once", "--scenario", str(scenario), "--run-dir",
                       str(tmp_path / "run"), cwd=tmp_path,
                       env={**_env(), "COLUMNS": "400"})  # one note, one line
    assert done.returncode == 0, done.stdout + done.stderr
    assert "big: Teleservice call (service_need) refused by the car" in done.stdout
    assert TELESERVICE_RULE in done.stdout
    assert "EnvelopeError" not in done.stderr  # the stack may log unrelated shutdowns
    assert "all expectations hold" in done.stdout
