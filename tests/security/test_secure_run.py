"""``telematics up --once`` on its own secure broker: every role and car with its certificate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.local_services import MQTT_URL_ENV, REDIS_URL_ENV, ensure_installed

pytestmark = [pytest.mark.e2e, pytest.mark.broker]
ROOT = Path(__file__).resolve().parents[2]


def test_up_once_default_scenario_holds_on_secure_broker(tmp_path: Path) -> None:
    """The default scenario passes with TLS-only listeners, and the broker's files show
    certificates required, no anonymous access and no VIN in its log."""
    ensure_installed(allow_apt=False, environ=None)
    env = {k: v for k, v in os.environ.items() if k not in (MQTT_URL_ENV, REDIS_URL_ENV)}
    env["PYTHONPATH"] = str(ROOT)
    run_dir, report = tmp_path / "run", tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "cli.main", "up", "--once", "--api-port", "0",
                           "--report", str(report), "--run-dir", str(run_dir)], cwd=tmp_path,
                          env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mqtts://127.0.0.1:" in done.stdout
    data = json.loads(report.read_text())
    assert data["passed"] is True
    config = (run_dir / "mosquitto.conf").read_text().splitlines()
    assert config.count("require_certificate true") == 2
    assert "allow_anonymous false" in config
    log = (run_dir / "mosquitto.log").read_text()
    vins = [i["vin"] for i in data["incidents"]]
    assert len(vins) == 6
    assert not [vin for vin in vins if vin in log]
