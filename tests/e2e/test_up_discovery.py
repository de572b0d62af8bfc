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
STILL_RUNNING = "press Ctrl-C to stop"


def _until(what: str, holds: object, up: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not (holds() if callable(holds) else holds):
        assert up.poll() is None, f"up ended before {what}"
        assert time.monotonic() < deadline, f"up never got to {what}"
        time.sleep(0.1)  # polling files while up works


def _start_up(tmp_path: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """``up`` (not ``--once``) from ``tmp_path``, its output in ``up.out`` and ``up.err``
    there, with the environment the other commands of the test get."""
    env = {k: v for k, v in _env().items() if k != "TELEMATICS_API_URL"}
    with (tmp_path / "up.out").open("wb") as stdout, (tmp_path / "up.err").open("wb") as stderr:
        up = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--api-port", "0"],
                              cwd=tmp_path, env=env, stdout=stdout, stderr=stderr)
    return up, env


def test_budgets_finds_a_running_up_from_the_same_directory(tmp_path: Path) -> None:
    up, env = _start_up(tmp_path)
    out, err = tmp_path / "up.out", tmp_path / "up.err"
    announced = tmp_path / ".run" / UP_FILE
    try:
        _until("announcing its API", announced.exists, up, 120)
        api_url = json.loads(announced.read_text())["api_url"]
        done = _telematics("budgets", "--json", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert "fleet" in json.loads(done.stdout)
        _until("the end of its scenario", lambda: STILL_RUNNING in out.read_text(), up, 120)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
    assert up.returncode in (0, 1), err.read_text()
    assert f"backend up: API {api_url}" in out.read_text()
    assert not announced.exists()


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_in_the_middle_of_a_scenario_stops_everything_up_started(
        tmp_path: Path) -> None:
    up, _env_of_up = _start_up(tmp_path)
    err = tmp_path / "up.err"
    announced = tmp_path / ".run" / UP_FILE
    try:
        _until("announcing its API", announced.exists, up, 120)
        started = _descendants(up.pid)
        assert len(started) >= 5, started  # Mosquitto, two Redis, the supervised roles
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 143, err.read_text()
    assert "stopped by SIGTERM" in err.read_text()
    deadline = time.monotonic() + 15
    while (left := {p for p in started if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)  # polling /proc while the last processes exit
    assert not left, [Path(f"/proc/{p}/cmdline").read_bytes() for p in left]
    assert not announced.exists()
