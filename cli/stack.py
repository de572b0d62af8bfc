"""The whole platform on one machine: local services, the backend roles, readiness.

Used by ``telematics up`` and ``telematics bench``: both need a broker, Redis and a
backend whose lanes are subscribed before the first car publishes. The stack signs its
own API calls with the run directory's key pair (``cli.token``), whose public half the
API is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from backend.runtime.roles import ROLES, Role
from backend.runtime.supervisor import Supervisor
from backend.settings import BackendSettings
from cli.certificates import issue_backend
from cli.local_services import LocalServices, free_port
from cli.token import KeyPair, ensure_key_pair, mint_with
from pki.identities import BACKEND_IDENTITIES
from protocols.addresses import MqttTls
from vehicle_sim.api_role import bearer


class StackError(RuntimeError):
    """The backend did not come up; the message says which lane is missing."""


@dataclass(frozen=True, slots=True)
class Stack:
    settings: BackendSettings
    supervisor: Supervisor
    keys: KeyPair

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    def operator_token(self, *, ttl_s: float = 24 * 3600.0) -> str:
        """A bearer token of the operator, signed with the stack's own key."""
        return mint_with(self.keys.private, role="operator", ttl_s=ttl_s)


def local_auth(settings: BackendSettings, keys: KeyPair) -> BackendSettings:
    """``settings`` whose API checks tokens with the public half of ``keys``."""
    return settings.model_copy(update={"auth_public_key_file": str(keys.public),
                                       "auth_jwks_file": "", "auth_jwks_url": ""})


async def wait_ready(api_url: str, lanes: Sequence[str], *, since: float, token: str,
                     timeout_s: float = 30.0) -> None:
    """Poll ``/health/detail`` (as the operator, with ``token``) until every lane has
    reported itself subscribed after ``since``."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    async with httpx.AsyncClient(base_url=api_url, timeout=2.0,
                                 headers=bearer(token)) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                answer = await client.get("/health/detail")
                if answer.status_code in (401, 403):
                    raise StackError(f"the API refused the stack's own token: {answer.text}")
                health = answer.json()
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
    return issue_backend(services.authority(backend=True))


@contextlib.asynccontextmanager
async def running_backend(mqtt_url: str, redis_url: str, *, run_dir: Path,
                          roles: Sequence[Role] = ROLES,
                          tls: MqttTls | None = None, psap_redis_url: str = "",
                          psap_relay_redis_url: str = "",
                          api_port: int | None = None,
                          metrics_port: int = 0) -> AsyncIterator[Stack]:
    """The backend roles under a supervisor, ready; the API trusts ``run_dir``'s key,
    ``tls`` (from ``backend_tls``) is each role's certificate for an mqtts broker. A local
    stack runs scenarios: its backend follows the scenario's virtual clock. The PSAP URLs
    (``ServiceUrls``) put the PSAP domain in its own Redis; empty, it shares ``redis_url``.
    ``api_port`` is the API's port on loopback; by default any free one. ``metrics_port``
    is the first of the roles' metrics ports on loopback; 0 serves none."""
    keys = ensure_key_pair(run_dir)
    settings = local_auth(BackendSettings(
        mqtt_url=mqtt_url, redis_url=redis_url, psap_redis_url=psap_redis_url,
        psap_relay_redis_url=psap_relay_redis_url,
        api_port=api_port if api_port else free_port(),
        metrics_port=metrics_port,
        follow_scenario_clock=True,
        mqtt_ca_file=tls.ca_file if tls else None,
        mqtt_cert_file=str(tls.cert_file) if tls else None,
        mqtt_key_file=str(tls.key_file) if tls else None), keys)
    stack = Stack(settings, Supervisor(settings, roles=roles), keys)
    stop = asyncio.Event()
    since = time.time()
    task = asyncio.create_task(stack.supervisor.run(stop), name="supervisor")
    body = asyncio.current_task()
    # A role the supervisor gave up ends the run that uses the stack, with its cause.
    task.add_done_callback(lambda _t: body.cancel() if body and stack.supervisor.given_up
                           else None)
    try:
        await wait_ready(stack.api_url, [r for r in roles if r != "api"], since=since,
                         token=stack.operator_token(ttl_s=300))
        yield stack
    except asyncio.CancelledError:
        given_up = stack.supervisor.given_up
        if given_up is None or body is None:
            raise
        body.uncancel()
        raise StackError(given_up[1]) from None
    finally:
        stop.set()
        await task
