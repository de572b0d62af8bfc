"""The caller of a request and the guards of the routes (rules: ``backend.access``).

``CallerDep`` reads ``X-Role`` / ``X-Party`` into a ``Caller``; a missing or unknown
role is a 401 whose detail names the header and the allowed values. In a real
deployment these headers are set by the authenticating proxy in front of the API, never
trusted from the client. ``require`` turns a refused decision into a 403 whose detail
names the role and the rule. ``operator_only(what)`` is the guard of whole routers
(OTA, budgets, retention): ``APIRouter(..., dependencies=[Depends(operator_only("OTA
campaigns"))])``. ``/health``, ``/ready``, ``/docs`` and ``/openapi.json`` take no caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, cast

from fastapi import Depends, Header, HTTPException
from redis.asyncio import Redis

from backend import access
from backend.access import Caller, Resource
from backend.maintenance_store import case_key, partner_cases_key
from backend.vehicle_registry import load_profile

_ROLES = ", ".join(access.ROLES)


def get_caller(
    x_role: Annotated[str | None, Header(
        alias=access.ROLE_HEADER,
        description=f"The caller's role, set by the authenticating proxy: one of {_ROLES}")
    ] = None,
    x_party: Annotated[str | None, Header(
        alias=access.PARTY_HEADER,
        description="psap: the PSAP's country code (BE, NL, ..., INTL); partner: the "
                    "service partner id (sp-be-ant); empty for the other roles")
    ] = None,
) -> Caller:
    """The caller the proxy vouched for, or 401 naming the header and the allowed values."""
    try:
        return access.caller_from_headers(x_role, x_party)
    except access.IdentityError as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from None


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(caller: Caller, resource: Resource) -> None:
    """Go on if the caller may have ``resource``; else 403 naming the role and the rule."""
    try:
        access.require(caller, resource)
    except access.AccessDeniedError as exc:
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
    case there (the need was sent to it, §16a line 631). Only the asking partner's case
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
