"""Backend lanes running in the test's own event loop against the real services."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from backend.runtime.roles import run_desks, run_emergency
from tests.backend.support import Lanes, signer


@pytest.fixture
async def lanes(mqtt_url: str, redis_url: str, psap_redis_url: str,
                psap_relay_redis_url: str) -> AsyncIterator[Lanes]:
    """The emergency and desk lanes, with the PSAP domain in its own Redis."""
    settings = signer().settings(mqtt_url=mqtt_url, redis_url=redis_url,
                                 psap_redis_url=psap_redis_url,
                                 psap_relay_redis_url=psap_relay_redis_url,
                               worker_id=uuid.uuid4().hex[:8])
    running = Lanes(settings)
    running.start_role("emergency", run_emergency)
    running.start_role("desks", run_desks)
    await running.wait_ready("emergency", "desks")
    yield running
    for name in list(running.tasks):
        await running.stop_role(name)
    await running.forget_sessions()
