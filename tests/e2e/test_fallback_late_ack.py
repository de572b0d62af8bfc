"""The shipped ``fallback_late_ack`` scenario passes end to end through ``telematics up
--once``: late and lost acknowledgements move the car along its fallback chain while the
backend holds every transmission, and the PSAP's record keeps the channels apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_default_scenario import _env, _telematics

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def test_fallback_late_ack_records_what_the_car_finally_did(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = _telematics("up", "--once", "--scenario", "fallback_late_ack", "--report",
                       str(report), "--run-dir", str(tmp_path / "run"), cwd=tmp_path,
                       env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["passed"] is True
    by_vehicle = {i["vehicle"]: i for i in data["incidents"]}
    late = by_vehicle["de-late-late"]
    # The acks did arrive, only after the car's 1 s timer: the car went on regardless.
    assert [(a["variant"], a["acked"]) for a in late["attempts"]] == [
        ("intelligent", True), ("legal", True)]
    assert all(a["ack_ms"] > 900 for a in late["attempts"])
    assert late["voice_call_country"] == "DE"
    lost = by_vehicle["at-lost"]
    assert [(a["variant"], a["acked"]) for a in lost["attempts"]] == [
        ("intelligent", False), ("legal", True)]
    reasons = {e["vehicle"]: e["reason"] for e in data["expectations"]}
    assert reasons["de-late-update"].endswith("1 MSD update(s)")
