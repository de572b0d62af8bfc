"""The HTTP status of each error of the backend, in one table, and how routes document them.

The domain raises its own errors (``backend.errors`` draws the tree) and knows nothing of
HTTP; here each class gets its status, and an error answers the status of the nearest
class of its ancestry in ``STATUS``: ``BackendError`` itself, a bug or an error no route
should meet, is 500. ``errors(...)`` builds a route's ``responses=`` from the errors it
may raise, so the OpenAPI document states each status with the one body and, as its
description, what each error means (its docstring's first paragraph).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from backend.api.errors import (
    AccessDeniedError,
    IdentityError,
    RequestRuleError,
    TokenError,
    TokenKeysUnavailableError,
)
from backend.api.schemas.error_body import ErrorPublic
from backend.assistance.errors import UnknownAssistanceCaseError
from backend.emergency.errors import DeskError, NoVinError
from backend.errors import BackendError
from backend.infra.errors import StoreBusyError, StoreUnavailableError
from backend.ota.errors import (
    CampaignConflictError,
    CampaignExistsError,
    CampaignSpecError,
    CampaignTransitionError,
    UnknownCampaignError,
    UnknownVehicleFactsError,
    VehicleNotInCampaignError,
)
from backend.privacy.errors import (
    ErasureRefusedError,
    NeverStoredError,
    RetentionError,
    UnknownRecordError,
    UnknownServiceError,
    UnknownVehicleError,
)
from backend.services.errors import (
    CaseTransitionError,
    UnknownCaseError,
    UnknownPartnerError,
    UnknownProfileError,
)

STATUS: Final[Mapping[type[BackendError], int]] = {
    BackendError: 500,
    # 401 and 403: who is calling, and what the caller may have
    TokenError: 401,
    IdentityError: 401,
    AccessDeniedError: 403,
    # 404: the record the path names does not exist
    DeskError: 404,
    UnknownAssistanceCaseError: 404,
    UnknownCampaignError: 404,
    VehicleNotInCampaignError: 404,
    UnknownVehicleFactsError: 404,
    UnknownCaseError: 404,
    UnknownPartnerError: 404,
    UnknownProfileError: 404,
    UnknownVehicleError: 404,
    UnknownServiceError: 404,
    UnknownRecordError: 404,
    # 409: the request conflicts with the record's state or a rule of its life
    NoVinError: 409,
    CampaignTransitionError: 409,
    CampaignExistsError: 409,
    CaseTransitionError: 409,
    ErasureRefusedError: 409,
    NeverStoredError: 409,
    # 422: fits the schema, breaks a rule the schema cannot state
    RequestRuleError: 422,
    CampaignSpecError: 422,
    RetentionError: 422,
    # 503: nothing wrong with the request; retry later
    StoreUnavailableError: 503,
    StoreBusyError: 503,
    CampaignConflictError: 503,
    TokenKeysUnavailableError: 503,
}

# What the framework answers before a handler runs, with the same body.
REQUEST_UNREADABLE: Final = 400
REQUEST_INVALID: Final = 422
FRAMEWORK_MEANINGS: Final[Mapping[int, str]] = {
    REQUEST_UNREADABLE: "The body could not be read.",
    REQUEST_INVALID: "The request does not fit the schema; the field and the rule are named.",
}


def status_of(error: type[BackendError]) -> int:
    """The status of the nearest class of ``error``'s ancestry that the table names."""
    return next(STATUS[c] for c in error.__mro__ if c in STATUS)


def meaning(error: type[BackendError]) -> str:
    """What the error means, for the OpenAPI document: its docstring's first paragraph."""
    first = (error.__doc__ or error.__name__).strip().split("\n\n")[0]
    return " ".join(first.split())


def errors(*causes: type[BackendError] | int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may raise these errors (or answer these
    framework statuses): per status the one body and what each cause means."""
    meanings: dict[int, list[str]] = {}
    for cause in causes:
        status, text = ((cause, FRAMEWORK_MEANINGS[cause]) if isinstance(cause, int)
                        else (status_of(cause), meaning(cause)))
        if text not in meanings.setdefault(status, []):
            meanings[status].append(text)
    return {status: {"model": ErrorPublic, "description": " ".join(texts)}
            for status, texts in sorted(meanings.items())}


# What every route that needs a caller may answer: an unreadable or invalid request, a
# token that names no caller, a caller that may not, and Redis or the keys unavailable.
GUARDED: Final = (REQUEST_UNREADABLE, REQUEST_INVALID, RequestRuleError, TokenError,
                  AccessDeniedError, StoreUnavailableError, TokenKeysUnavailableError)
