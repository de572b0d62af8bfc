"""The two sides run alone, as docker compose runs them: ``backend run`` and ``sim run``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from cli.local_services import LocalServices, free_port
from cli.stack import wait_ready
from cli.token import key_pair_in, mint_with

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


async def test_backend_run_and_sim_run_pass_the_default_scenario(
        tmp_path: Path, fresh_services: LocalServices) -> None:
    """`telematics backend run` serves, `telematics sim run` drives the default scenario,
    both on the secure broker: the roles with the backend CA's certificates (from
    $TELEMATICS_PKI_DIR), each car with one the device CA issues it (--pki-dir); the sim
    signs in with the key the backend created in its run directory."""
    port = free_port()
    keys = key_pair_in(tmp_path / "run")
    urls, pki_dir = fresh_services.urls, fresh_services.run_dir / "pki"
    assert urls.mqtt_url.startswith("mqtts://")
    env = {**os.environ, **urls.redis_environment(), "PYTHONPATH": str(ROOT),
           "TELEMATICS_SIGNING_KEY": str(keys.private)}
    since = time.time()
    backend = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "backend", "run", "--api-port", str(port),
        "--scenario-clock", "--run-dir", str(tmp_path / "run"), "--mqtt-url", urls.mqtt_url,
        env={**env, "TELEMATICS_PKI_DIR": str(pki_dir)})
    api = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not keys.public.exists():
            assert time.monotonic() < deadline, "backend run created no signing key"
            await asyncio.sleep(0.05)
        token = mint_with(keys.private, role="operator")
        await wait_ready(api, ["emergency", "desks", "services", "bulk"], since=since,
                         token=token)
        sim = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli.main", "sim", "run", "--api-url", api, "--report",
            str(tmp_path / "report.json"), "--mqtt-url", urls.cars_mqtt_url, "--pki-dir",
            str(pki_dir), env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(sim.communicate(), 90)
        assert sim.returncode == 0, output.decode()
    finally:
        backend.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(backend.wait(), 20)
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] is True
    assert len(report["incidents"]) == 6
