"""The one body of every error of the HTTP API.

Every error, whatever its status, has one body: ``ErrorPublic``. Its ``detail`` is a
sentence, a ``{message, field, rule}`` object naming what was wrong, or (422 from request
validation) pydantic's list of errors. ``errors(*codes)`` documents statuses on a route.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    message: str
    field: str | None = None
    rule: str | None = None


class ErrorPublic(BaseModel):
    detail: str | ErrorDetail | list[dict[str, Any]]


ERROR_MEANINGS: Final[dict[int, str]] = {
    400: "the body is not JSON",
    401: "no valid bearer token (missing, duplicated, expired, wrong issuer, audience or "
         "signature); the WWW-Authenticate header says so",
    403: "the token's role may not have this; the detail names the role and the rule",
    404: "no such desk, incident, case, vehicle record or campaign",
    409: "the request conflicts with the record's state; the detail names the rule",
    422: "the request does not fit the schema; the detail names the field and the rule",
    503: "Redis (or the identity provider's keys) cannot be reached now; retry later",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer these error statuses."""
    return {code: {"model": ErrorPublic, "description": ERROR_MEANINGS[code]}
            for code in codes}


# What every route that needs a caller and Redis may answer (400: a body that is no JSON).
GUARDED: Final = (400, 401, 403, 422, 503)
