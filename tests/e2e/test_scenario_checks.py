"""Check steps end to end through ``telematics up --once``: expectations judged at moments
of the virtual clock, reported with their instant, and a failed one failing the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_default_scenario import _env, _telematics

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def test_hv_retention_dates_held_on_14_january_and_gone_by_16(tmp_path: Path) -> None:
    """HV-R4 in calendar months: the case of 15 July is held on 14 January (a 6 x 30-day
    window would have deleted it on 11 January), gone by 16 January with its deletion
    audited on 15 January, and nothing of the incident is left in the OEM's storage."""
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", "hv_retention_dates", "--report",
                       str(report), "--run-dir", str(tmp_path / "run"), cwd=tmp_path,
                       env=_env(), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["passed"] is True
    lines = data["expectations"]
    assert all(e["ok"] for e in lines)
    by_moment = {(e.get("at"), e["vehicle"]): e["reason"] for e in lines}
    deletion = "hv-bev hv_case deletion"
    assert by_moment[("2027-01-14T20:00:00+00:00", deletion)] == "1 hv_case held on day 183.4"
    assert by_moment[("2027-01-16T00:00:00+00:00", deletion)].startswith(
        "1 hv_case gone on day 184.6, deleted on day 184.0")
    assert by_moment[("2027-01-16T00:00:00+00:00", "count incidents at callcentre of hv-bev")
                     ] == "0 incidents at callcentre of hv-bev"
    assert by_moment[(None, "storage of hv-bev's incident")].startswith("nothing of ")
    assert "cc:case:" in by_moment[("2026-07-15T10:00:00+00:00",
                                    "storage of hv-bev's incident")]
    assert by_moment[(None, "count incidents at psap-BE of hv-bev")] == (
        "1 incidents at psap-BE of hv-bev")


def test_a_failed_check_step_fails_the_run_with_its_instant(tmp_path: Path) -> None:
    """A count that does not hold at its moment fails the run and names the moment;
    absence holds where nothing was sent, and a storage check of a car with no incident
    says so."""
    scenario = tmp_path / "checks.yaml"
    scenario.write_text(
        "name: checks\nstart: 2026-05-04T09:00\nack_timeout_s: 1s\nsettle_timeout_s: 3s\n"
        "vehicles:\n"
        "  - {id: a, vin: WMW21DH0X0T999971, position: {lat: 50.85, lon: 4.35},"
        " activation_country: BE, intelligent_ecall: {bought: false}}\n"
        "  - {id: quiet, vin: WMW21DH0X0T999972, position: {lat: 52.37, lon: 4.9},"
        " activation_country: NL}\n"
        "events:\n  - {at: 0.1, vehicle: a, sos: {}}\n"
        "  - at: 2026-05-04T09:30\n    check:\n"
        "      - {count: {of: incidents, desk: psap-BE, vehicle: a, at_least: 2}}\n"
        "      - {count: {of: incidents, desk: psap-NL, exactly: 0}}\n"
        "expect_checks:\n  - {stored: {incident_of: quiet, present: true}}\n")
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", str(scenario), "--report", str(report),
                       "--run-dir", str(tmp_path / "run"), cwd=tmp_path,
                       env=_env())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL [2026-05-04T09:30:00+00:00] count incidents at psap-BE of a:" in done.stdout
    lines = json.loads(report.read_text())["expectations"]
    assert [(e.get("at"), e["ok"], e["reason"]) for e in lines] == [
        ("2026-05-04T09:30:00+00:00", False, "1 incidents at psap-BE of a, expected at least 2"),
        ("2026-05-04T09:30:00+00:00", True, "0 incidents at psap-NL of the run"),
        (None, False, "quiet raised no incident in this run")]
