"""The caller of a request and the guards of the routes (rules: ``backend.api.access``).

``CallerDep`` reads the OAuth 2 bearer token (``Authorization: Bearer <JWT>``, exactly
one such header) and has ``backend.api.tokens`` check it; the caller comes from its
claims only. A missing, duplicated or invalid token is ``TokenError``, a 401 with
``WWW-Authenticate: Bearer`` whose message says why. A handler asks
``backend.api.access.require``, whose ``AccessDeniedError`` is a 403 naming the role and the
rule; ``operator_only(what)`` is the guard of routes of the OEM's own operations (OTA,
budgets, retention): ``APIRouter(..., dependencies=[Depends(operator_only("OTA
campaigns"))])``. ``/health``, ``/ready``, ``/docs`` and ``/openapi.json`` take no caller.
The verifier lives on the app (``install_verifier``), built once from the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.api import access
from backend.api.access import Caller
from backend.api.errors import TokenError
from backend.api.tokens import TokenVerifier

_NO_KEYS = TokenVerifier("", "", None)
bearer = HTTPBearer(auto_error=False, scheme_name="bearer", bearerFormat="JWT",
                    description="An OAuth 2 access token (JWT, ES256 or RS256) whose claims "
                                "`role` and `party` say who is calling.")


def install_verifier(app: FastAPI, verifier: TokenVerifier) -> None:
    """Let every route of ``app`` check tokens with ``verifier``."""
    app.state.token_verifier = verifier


def get_caller(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """The caller a valid bearer token names, or ``TokenError`` saying what is wrong with
    it (``TokenKeysUnavailableError`` while the identity provider's keys cannot be had)."""
    if len(request.headers.getlist("authorization")) > 1:
        raise TokenError("more than one Authorization header", oauth_error="invalid_request")
    if credentials is None:
        raise TokenError("missing bearer token: send Authorization: Bearer <JWT>",
                         oauth_error=None)
    verifier: TokenVerifier = getattr(request.app.state, "token_verifier", _NO_KEYS)
    return verifier.caller(credentials.credentials)


CallerDep = Annotated[Caller, Depends(get_caller)]


def operator_only(what: str) -> Callable[[Caller], Caller]:
    """A dependency admitting only the operator, for a router of the OEM's own operations."""

    def guard(caller: CallerDep) -> Caller:
        access.require(caller, access.Operations(what))
        return caller

    return guard

