"""``telematics chaos --json`` end to end: every fault against a stack it starts itself.

This is the platform's promise checked from outside: under each fault, every eCall sent is
delivered to a desk exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.plan import FAULTS

pytestmark = [pytest.mark.e2e, pytest.mark.broker]
ROOT = Path(__file__).resolve().parents[2]
INSTANT_OUTAGES = {"kill_emergency", "kill_desk", "slow_redis", "redis_restart",
                   "broker_restart", "redis_kill", "broker_kill"}
PHASE_KEYS = {"fault", "skipped", "sent", "acked", "retransmitted", "delivered", "lost",
              "duplicated", "max_delay_ms", "red_seen", "red_after_s", "ready_again_s"}


@pytest.mark.timeout(260)
def test_chaos_every_fault_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """Each fault phase sends eCalls, and none is lost or duplicated."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "chaos", "--duration", "5s", "--rate", "20",
         "--ack-timeout", "2s", "--cars", "20", "--telemetry-rate", "200", "--json"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=240, check=False)
    assert done.returncode in (0, 1), done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert (done.returncode == 0) == figures["passed"]
    phases = figures["faults"]
    assert [phase["fault"] for phase in phases] == list(FAULTS)
    for phase in phases:
        assert set(phase) >= PHASE_KEYS, phase
        assert phase["skipped"] is None, phase
        assert phase["sent"] > 0, phase
    outcome = {phase["fault"]: (phase["lost"], phase["duplicated"]) for phase in phases}
    assert outcome == dict.fromkeys(FAULTS, (0, 0)), json.dumps(phases, indent=1)
    # Readiness tells the truth: red at once where a lane or a service is gone (the held
    # faults here last 1.25 s, under the 3 s a proof takes to go stale, so they may stay
    # green), and green again within seconds after every fault.
    red = {phase["fault"] for phase in phases if phase["red_seen"]}
    assert red >= INSTANT_OUTAGES, json.dumps(phases, indent=1)
    assert all(phase["ready_again_s"] is not None and phase["ready_again_s"] < 10
               for phase in phases), json.dumps(phases, indent=1)
