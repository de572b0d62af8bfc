"""The exception handlers that give every error of the HTTP API one body, ``ErrorPublic``.

A backend error answers its status from ``backend.api.error_statuses`` with its message,
field and rule; a 401 carries the RFC 6750 challenge, a 503 ``Retry-After``. A request
that does not fit the schema (422), a body that cannot be read (400) and a path or method
that does not exist answer the same body, so a client reads every failure one way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from backend.api.error_statuses import REQUEST_INVALID, status_of
from backend.api.errors import IdentityError, TokenError
from backend.api.schemas.error_body import ErrorPublic
from backend.errors import BackendError

log = logging.getLogger(__name__)
REALM: Final = "telematics"
RETRY_AFTER_S: Final = 1


def error_response(status: int, body: ErrorPublic,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def challenge(oauth_error: str | None) -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750): the error code when one applies."""
    return f'Bearer realm="{REALM}", error="{oauth_error}"' if oauth_error else "Bearer"


def _headers(exc: BackendError, status: int) -> dict[str, str] | None:
    if isinstance(exc, TokenError):
        return {"WWW-Authenticate": challenge(exc.oauth_error)}
    if isinstance(exc, IdentityError):
        return {"WWW-Authenticate": challenge("invalid_token")}
    if status == 503:
        return {"Retry-After": str(RETRY_AFTER_S)}
    return None


async def backend_error(_request: Request, exc: Exception) -> JSONResponse:
    """A backend error: its status from the table, its message, field and rule."""
    assert isinstance(exc, BackendError)
    status = status_of(type(exc))
    if status >= 500:
        log.log(logging.ERROR if status == 500 else logging.INFO, "%s answered %d: %s",
                type(exc).__name__, status, exc, exc_info=status == 500)
    return error_response(status, ErrorPublic(message=str(exc), field=exc.field,
                                              rule=exc.rule), _headers(exc, status))


def _where(loc: tuple[int | str, ...]) -> tuple[str, str | None]:
    """The part of the request (``body``, ``query``, ``path``...) and the dotted field."""
    source, *path = [str(part) for part in loc] or ["request"]
    return source, ".".join(path) or None


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """422: the first problem pydantic found, by field and rule, and how many more."""
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first: Mapping[str, Any] = problems[0] if problems else {
        "loc": ("request",), "msg": "invalid", "type": "invalid"}
    source, field = _where(tuple(first["loc"]))
    rule = str(first["msg"])
    if first["type"] == "json_invalid":  # its "field" is a character offset
        field = None
        rule = f"JSON: {first.get('ctx', {}).get('error', rule)}"
    message = f"the {source} does not fit the schema"
    if len(problems) > 1:
        message += f" ({len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return error_response(REQUEST_INVALID, ErrorPublic(message=message, field=field,
                                                       rule=rule))


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """What the framework raises itself: an unreadable body, no such path or method."""
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code,
                          ErrorPublic(message=str(exc.detail), field=None, rule=None),
                          dict(exc.headers) if exc.headers else None)


async def server_error(_request: Request, exc: Exception) -> JSONResponse:
    """A bug: the one body, saying nothing of the internals; the log has the traceback."""
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return error_response(500, ErrorPublic(message="internal error", field=None, rule=None))


def install_error_handlers(app: FastAPI) -> None:
    """Let every error ``app`` answers have the one body."""
    app.add_exception_handler(BackendError, backend_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
