"""The HTTP API application: built by ``create_app(settings)``, nothing at import time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.api.access_deps import install_verifier
from backend.api.deps import ApiState, reject_unknown_query
from backend.api.routes.budgets import router as budget_router
from backend.api.routes.core import router
from backend.api.routes.ota import ota_vehicles
from backend.api.routes.ota import router as ota_router
from backend.api.routes.partners import router as partner_router
from backend.api.routes.retention import closures, erasure, retention
from backend.api.routes.services import assistance, vehicles
from backend.api.routes.traffic import router as traffic_router
from backend.api.schemas import GUARDED, errors
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
    app.add_exception_handler(RedisError, redis_unavailable)
    app.include_router(router)
    for guarded in (partner_router, vehicles, assistance, traffic_router, ota_router,
                    ota_vehicles, budget_router, retention, erasure, closures):
        app.include_router(guarded, responses=errors(*GUARDED))
    return app


async def redis_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """A Redis outage is the service being unavailable (503), not a server bug (500)."""
    return JSONResponse({"detail": f"Redis unavailable ({type(exc).__name__}); retry later"},
                        status_code=503, headers={"Retry-After": "1"})
