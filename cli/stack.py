"""The whole platform on one machine: local services, the backend roles, readiness.

Used by ``telematics up`` and ``telematics bench``: both need a broker, Redis and a
backend whose lanes are subscribed before the first car publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx

from backend.roles import ROLES, Role
from backend.settings import BackendSettings
from backend.supervisor import Supervisor
from cli.local_services import LocalServices
from pki.identities import BACKEND_IDENTITIES
from protocols.addresses import MqttTls


class StackError(RuntimeError):
    """The backend did not come up; the message says which lane is missing."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Stack:
    settings: BackendSettings
    supervisor: Supervisor

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"


async def wait_ready(api_url: str, lanes: Sequence[str], *, since: float,
                     timeout_s: float = 30.0) -> None:
    """Poll ``/health`` until every lane has reported itself subscribed after ``since``."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    async with httpx.AsyncClient(base_url=api_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                health = (await client.get("/health")).json()
                ready = [name for name, at in health.get("lanes", {}).items() if at >= since]
                missing = [lane for lane in lanes if not any(r.startswith(lane) for r in ready)]
                if not missing:
                    return
                last = f"waiting for {', '.join(missing)}"
            await asyncio.sleep(0.1)
    raise StackError(f"backend not ready after {timeout_s:.0f} s: {last}")


def backend_tls(services: LocalServices) -> MqttTls | None:
    """Every backend role's certificate issued, and where they are, with ``{identity}``
    for the role (``BackendSettings.mqtt_cert_file``); ``None`` for a plaintext broker."""
    if services.identity(BACKEND_IDENTITIES[0]) is None:
        return None
    for name in BACKEND_IDENTITIES:
        services.identity(name)
    return services.authority(backend=True).path_template()


@contextlib.asynccontextmanager
async def running_backend(mqtt_url: str, redis_url: str, *, roles: Sequence[Role] = ROLES,
                          tls: MqttTls | None = None) -> AsyncIterator[Stack]:
    """The backend roles against ``mqtt_url``; ``tls`` from ``backend_tls`` for mqtts. A local
    stack runs scenarios: its backend follows the scenario's virtual clock."""
    settings = BackendSettings(
        mqtt_url=mqtt_url, redis_url=redis_url, api_port=free_port(),
        follow_scenario_clock=True,
        mqtt_ca_file=tls.ca_file if tls else None,
        mqtt_cert_file=str(tls.cert_file) if tls else None,
        mqtt_key_file=str(tls.key_file) if tls else None)
    supervisor = Supervisor(settings, roles=roles)
    stop = asyncio.Event()
    since = time.time()
    task = asyncio.create_task(supervisor.run(stop), name="supervisor")
    try:
        await wait_ready(f"http://{settings.api_host}:{settings.api_port}",
                         [r for r in roles if r != "api"], since=since)
        yield Stack(settings, supervisor)
    finally:
        stop.set()
        await task
