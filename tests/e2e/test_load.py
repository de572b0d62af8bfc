"""``telematics load`` end to end: 20 cars for a few seconds against the real local stack."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cli.local_services import LocalServices
from tests.e2e.test_default_scenario import _env, _telematics

pytestmark = pytest.mark.e2e

PROFILE = """
name: tiny
vehicles: 20
duration: 6s
ramp: 2s
drain: 3s
traffic: {{clock_speed: 3600, km_per_hour: 50, ecalls_per_hour: 2, assistance_per_hour: 2}}
thresholds:
  ecall_ack_p99_ms: {p99}
  lost_ecalls: 0
  rejected: 0
  connect_failure_share: 0
"""


def _run(tmp_path: Path, profile_text: str, *, timeout: float = 110
         ) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The platform started by the command itself, as ``telematics up`` starts it."""
    profile = tmp_path / "profile.yaml"
    profile.write_text(profile_text)
    reports = tmp_path / "reports"
    done = _telematics("load", str(profile), "--report", str(reports), "--run-dir",
                       str(tmp_path / "run"), cwd=tmp_path, env=_env(), timeout=timeout)
    return done, reports


def _passing_run(tmp_path: Path, profile_text: str, *, timeout: float) -> dict[str, Any]:
    """A run that must pass; its JSON report."""
    done, reports = _run(tmp_path, profile_text, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    data: dict[str, Any] = json.loads((reports / "report.json").read_text())
    return data


@pytest.mark.broker  # `load` starts its own Mosquitto, Redis and backend
def test_load_tiny_fleet_passes_its_thresholds_and_writes_reports(tmp_path: Path) -> None:
    done, reports = _run(tmp_path, PROFILE.format(p99="5000"))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((reports / "report.json").read_text())
    assert data["passed"] is True
    assert data["peak_connected"] == 20
    assert data["latency"]["connect"]["count"] == 20
    assert data["ecalls"]["started"] > 0
    assert data["ecalls"]["acknowledged"] == data["ecalls"]["started"]
    assert data["backend_rejected"] == 0
    desk = data["latency"]["ecall_desk"]  # publish to desk receipt, read from the desks API
    assert desk["count"] == data["ecalls"]["acknowledged"] and desk["without_receipt"] == 0
    assert desk["min_ms"] > 0
    assert "desk_notes" not in data
    suite = ET.parse(reports / "junit.xml").getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "0"
    assert "<svg" in (reports / "report.html").read_text()


def test_load_impossible_threshold_exits_non_zero_naming_it(tmp_path: Path,
                                                            services: LocalServices) -> None:
    """Against a broker given by URL (the session's, no backend): the cars still connect
    with their own certificates, and a connect p99 no network can meet fails by name."""
    profile = tmp_path / "connect.yaml"
    profile.write_text("name: connect\nvehicles: 20\nduration: 4s\nramp: 1s\ndrain: 1s\n"
                       "seed: 13\nthresholds: {connect_p99_ms: 0.001, connect_failure_share: 0}\n")
    reports = tmp_path / "reports"
    devices = services.authority(backend=False).directory
    done = _telematics("load", str(profile), "--broker", services.urls.cars_mqtt_url,
                       "--ca-dir", str(devices), "--report", str(reports), cwd=tmp_path,
                       env=_env(), timeout=90)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "connect_p99_ms:" in done.stdout and "BREACHED" in done.stdout
    suite = ET.parse(reports / "junit.xml").getroot()
    assert [c.get("name") for c in suite if c.find("failure") is not None] == [
        "connect_p99_ms"]
    assert json.loads((reports / "report.json").read_text())["peak_connected"] == 20


def test_load_unknown_profile_exits_two(tmp_path: Path) -> None:
    done = _telematics("load", "nope", cwd=tmp_path, env=_env())
    assert done.returncode == 2
    assert "no profile 'nope'" in done.stderr and done.stdout == ""


def test_load_command_line_never_imports_gevent() -> None:
    """Locust's patches stay in its own processes: the CLI imports no gevent at all."""
    code = ("import sys, cli.main, cli.load, loadtest.engine; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gevent', 'locust')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), check=True, timeout=60)
    assert done.stdout.strip() == "[]"


OTA_PROFILE = """
name: tiny_ota
vehicles: 20
duration: 12s
ramp: 2s
drain: 3s
traffic: {clock_speed: 600}
ota: {at: 4s, download_s: 2s, install_s: 1s}
thresholds: {ota_offer_p99_ms: 5000, missed_ota_offers: 0, connect_failure_share: 0}
"""



@pytest.mark.broker  # `load` starts its own Mosquitto, Redis and backend
def test_load_ota_wave_offers_the_fleet_a_campaign_through_the_api(tmp_path: Path) -> None:
    """Facts registered, the campaign posted at its moment, every car offered and
    updated; the offer is timed from the campaign's moment and each transfer measured."""
    data = _passing_run(tmp_path, OTA_PROFILE, timeout=110)
    assert data["ota"] == {"expected": 20, "offered": 20, "missed": 0, "done": 20}
    assert data["latency"]["ota_offer"]["count"] == 20
    assert data["latency"]["ota_download"]["min_ms"] >= 2000  # ten tenths of 2 s
    assert data["run"]["ota_campaign"]["targeted"] == 20
    assert data["counters"]["ota_event_downloading"] >= 200


STORM_PROFILE = """
name: tiny_storm
vehicles: 20
duration: 14s
ramp: 2s
drain: 60s
traffic: {clock_speed: 60}
storm: {at: 5s, down: 1s, back_within: 3s, ecalls: 5}
thresholds: {lost_ecalls: 0, rejected: 0, connect_failure_share: 0}
"""


@pytest.mark.broker  # `load` starts its own Mosquitto, Redis and backend
def test_load_storm_resumes_tls_sessions_and_drains_until_every_ecall_is_home(
        tmp_path: Path) -> None:
    """Every car comes back from the cut on a resumed TLS session; each eCall made in the
    storm is acknowledged and at its desk, and the drain ends once they all are, well
    before its bound."""
    data = _passing_run(tmp_path, STORM_PROFILE, timeout=150)
    counters = data["counters"]
    assert counters["storm_cuts"] == 20
    assert counters["tls_full"] == 20 and counters["tls_resumed"] == 20
    assert data["ecalls"]["started"] == 5 and data["ecalls"]["lost"] == 0
    assert data["ecalls"]["not_at_desk"] == 0
    assert data["run"]["seconds"] < 14 + 60 - 20
