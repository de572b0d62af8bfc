"""The HTTP API application: built by ``create_app(settings)``, nothing at import time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from redis.asyncio import Redis

from backend.api.access_deps import install_verifier
from backend.api.deps import ApiState, reject_unknown_query
from backend.api.error_handlers import install_error_handlers
from backend.api.error_statuses import GUARDED, REQUEST_INVALID, errors
from backend.api.errors import RequestRuleError
from backend.api.routes import (
    assistance,
    budgets,
    desks,
    health,
    ota,
    partners,
    retention,
    traffic,
    vehicles,
)
from backend.api.tokens import verifier_from
from backend.emergency.incidents import DeskStores
from backend.infra.clock_follower import listening_clock
from backend.infra.mqtt_link import disconnect
from backend.settings import BackendSettings


def create_app(settings: BackendSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, ApiState]]:
        oem = Redis.from_url(settings.redis_url, db=settings.oem_db)
        # The PSAP routes read the PSAP domain as its ``psap`` user.
        psap = Redis.from_url(settings.psap_url, db=settings.psap_db)
        clock, client = await listening_clock(
            settings, role="api", client_id=f"backend-api-{uuid.uuid4().hex[:8]}")

        def publish(topic: str, payload: bytes) -> None:
            client.publish(topic, payload, qos=1)

        try:
            yield {"api": ApiState(DeskStores(oem, psap), publish, oem, clock)}
        finally:
            await disconnect(client)
            await oem.aclose()
            await psap.aclose()

    app = FastAPI(title="Telematics backend", version="1", lifespan=lifespan,
                  dependencies=[Depends(reject_unknown_query)],
                  description="Desks of the PSAPs and the OEM call centre, and their incidents.")
    install_verifier(app, verifier_from(settings))
    install_error_handlers(app)
    # Open to all; still, an unknown query parameter is refused (reject_unknown_query).
    app.include_router(health.router, responses=errors(REQUEST_INVALID, RequestRuleError))
    for guarded in (desks, vehicles, partners, assistance, ota, budgets, retention, traffic):
        app.include_router(guarded.router, responses=errors(*GUARDED))
    return app

