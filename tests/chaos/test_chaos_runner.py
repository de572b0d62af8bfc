"""The chaos runner against a stack it did not start: what it cannot inject is skipped."""

from __future__ import annotations

from pathlib import Path

from chaos.faults import FaultTarget
from chaos.plan import ChaosPlan
from chaos.runner import ChaosTarget, run_chaos
from chaos.tally import exit_code
from cli.local_services import LocalServices
from cli.stack import backend_tls, running_backend


async def test_run_chaos_foreign_stack_skips_with_reasons(
        fresh_services: LocalServices, tmp_path: Path) -> None:
    """Without pids or restarts, kills and restarts are skipped; slow_redis still runs,
    with every car presenting its certificate on the secure broker."""
    urls = fresh_services.urls
    plan = ChaosPlan(faults=("kill_desk", "slow_redis", "broker_restart"), duration_s=2.0,
                     rate=10.0, ack_timeout_s=1.0, cars=3, telemetry_rate=0.0)
    async with running_backend(urls.mqtt_url, urls.redis_url, run_dir=tmp_path,
                               tls=backend_tls(fresh_services),
                               psap_redis_url=urls.psap_redis_url,
                               psap_relay_redis_url=urls.psap_relay_redis_url) as stack:
        target = ChaosTarget(mqtt_url=urls.mqtt_url, redis_url=urls.redis_url,
                             psap_redis_url=urls.psap_redis_url,
                             api_url=stack.api_url, oem_db=stack.settings.oem_db,
                             psap_db=stack.settings.psap_db,
                             faults=FaultTarget(redis_url=urls.redis_url,
                                                pid_of=lambda _role: None),
                             cars_mqtt_url=urls.cars_mqtt_url,
                             identities=fresh_services.identity)
        results = await run_chaos(target, plan)
    by_fault = {result.fault: result for result in results}
    assert "--pid desks=PID" in (by_fault["kill_desk"].skipped or "")
    assert "not started by this run" in (by_fault["broker_restart"].skipped or "")
    assert by_fault["kill_desk"].tally is None
    slow = by_fault["slow_redis"]
    assert slow.skipped is None and slow.tally is not None and slow.readiness is not None
    assert slow.tally.sent > 0
    assert (slow.tally.lost, slow.tally.duplicated) == (0, 0)
    assert exit_code(results) == 0
