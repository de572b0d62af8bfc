"""The caller of a request and the guards of the routes (rules: ``backend.api.access``).

``CallerDep`` reads the OAuth 2 bearer token (``Authorization: Bearer <JWT>``, exactly
one such header) and has ``backend.api.tokens`` check it; the caller comes from its
claims only. A missing, duplicated or invalid token is a 401 with ``WWW-Authenticate:
Bearer`` whose detail says why. ``require`` turns a refused decision into a 403 whose
detail names the role and the rule. ``operator_only(what)`` is the guard of whole routers
(OTA, budgets, retention): ``APIRouter(..., dependencies=[Depends(operator_only("OTA
campaigns"))])``. ``/health``, ``/ready``, ``/docs`` and ``/openapi.json`` take no caller.
The verifier lives on the app (``install_verifier``), built once from the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, cast

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from backend.api import access
from backend.api.access import Caller, Resource
from backend.api.errors import AccessDeniedError, TokenError, TokenKeysUnavailableError
from backend.api.tokens import TokenVerifier
from backend.services.maintenance_store import case_key, partner_cases_key
from backend.services.vehicle_registry import load_profile

_NO_KEYS = TokenVerifier("", "", None)
bearer = HTTPBearer(auto_error=False, scheme_name="bearer", bearerFormat="JWT",
                    description="An OAuth 2 access token (JWT, ES256 or RS256) whose claims "
                                "`role` and `party` say who is calling.")


def install_verifier(app: FastAPI, verifier: TokenVerifier) -> None:
    """Let every route of ``app`` check tokens with ``verifier``."""
    app.state.token_verifier = verifier


def unauthorized(detail: str, *, error: str | None = None) -> HTTPException:
    """A 401 carrying the RFC 6750 challenge."""
    challenge = f'Bearer realm="telematics", error="{error}"' if error else "Bearer"
    return HTTPException(status_code=401, detail=detail,
                         headers={"WWW-Authenticate": challenge})


def get_caller(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """The caller a valid bearer token names, or 401 saying what is wrong with it."""
    if len(request.headers.getlist("authorization")) > 1:
        raise unauthorized("more than one Authorization header", error="invalid_request")
    if credentials is None:
        raise unauthorized("missing bearer token: send Authorization: Bearer <JWT>")
    verifier: TokenVerifier = getattr(request.app.state, "token_verifier", _NO_KEYS)
    try:
        return verifier.caller(credentials.credentials)
    except TokenError as exc:
        raise unauthorized(str(exc), error="invalid_token") from None
    except TokenKeysUnavailableError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(caller: Caller, resource: Resource) -> None:
    """Go on if the caller may have ``resource``; else 403 naming the role and the rule."""
    try:
        access.require(caller, resource)
    except AccessDeniedError as exc:
        raise HTTPException(status_code=403, detail=exc.rule) from None


def operator_only(what: str) -> Callable[[Caller], Caller]:
    """A dependency admitting only the operator, for a router of the OEM's own operations."""

    def guard(caller: CallerDep) -> Caller:
        require(caller, access.Operations(what))
        return caller

    return guard


async def assigned_partners(oem: Redis, vin: str, *, asking: str) -> frozenset[str]:
    """The partners ``vin`` is assigned to, as far as ``asking`` is concerned.

    Its preferred partner (§16d), and ``asking`` itself if the car has a maintenance
    case there (the need was sent to it, §16a TS-R4). Only the asking partner's case
    index is read, one pipelined round trip for all its cases' VINs.
    """
    assigned: set[str] = set()
    profile = await load_profile(oem, vin)
    if profile is not None and profile.preferred_partner is not None:
        assigned.add(profile.preferred_partner)
    if asking not in assigned:
        ids = cast(list[bytes], await oem.zrange(partner_cases_key(asking), 0, -1))
        async with oem.pipeline(transaction=False) as pipe:
            for raw_id in ids:
                pipe.hget(case_key(raw_id.decode()), "vin")
            vins = cast(list[bytes | None], await pipe.execute())
        if vin.encode() in vins:
            assigned.add(asking)
    return frozenset(assigned)
