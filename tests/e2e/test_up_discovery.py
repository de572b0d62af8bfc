"""After ``telematics up``, the README's next commands find its API without being told."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.running_up import UP_FILE
from tests.e2e.test_default_scenario import _env, _telematics

pytestmark = [pytest.mark.e2e, pytest.mark.broker]  # `up` starts its own Mosquitto and Redis


def test_budgets_finds_a_running_up_from_the_same_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in _env().items() if k != "TELEMATICS_API_URL"}
    up = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--api-port", "0"],
                          cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    announced = tmp_path / ".run" / UP_FILE
    try:
        deadline = time.monotonic() + 120
        while not announced.exists():
            assert up.poll() is None, up.communicate()
            assert time.monotonic() < deadline, "up never announced its API"
            time.sleep(0.1)  # polling for the file while up starts its services
        api_url = json.loads(announced.read_text())["api_url"]
        done = _telematics("budgets", "--json", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert "fleet" in json.loads(done.stdout)
        assert api_url not in done.stderr
    finally:
        up.send_signal(signal.SIGTERM)
        out, err = up.communicate(timeout=60)
    assert up.returncode in (0, 1), err
    assert f"backend up: API {api_url}" in out
    assert not announced.exists()
