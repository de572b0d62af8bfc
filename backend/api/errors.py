"""Errors of the HTTP API: callers, their tokens and access, and requests::

    BackendError
    └── ApiError
        ├── TokenError                  a bearer token missing, malformed or not for us
        ├── IdentityError               a token whose claims name no caller
        ├── TokenKeysUnavailableError   the identity provider's keys cannot be fetched
        ├── AuthSettingsError           settings that name no usable token key source
        ├── AccessDeniedError           a caller whose role may not have this
        └── RequestRuleError            a request that fits the schema, breaking a rule

Which HTTP status each error of the backend answers is ``backend.api.error_statuses``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.errors import BackendError

if TYPE_CHECKING:
    from backend.api.access import Caller


class ApiError(BackendError):
    """Base of the errors of the HTTP API: identities, tokens, access."""


class TokenError(ApiError):
    """The bearer token is missing, malformed, unsigned, expired or not for us (HTTP 401).

    ``oauth_error`` is the RFC 6750 error code the challenge names: ``invalid_token`` for a
    token that does not verify, ``invalid_request`` for a malformed request, None when no
    token was sent at all."""

    def __init__(self, message: str, *, oauth_error: str | None = "invalid_token") -> None:
        super().__init__(message)
        self.oauth_error = oauth_error


class IdentityError(ApiError):
    """The token does not say who is calling (HTTP 401); names the claim and the rule."""

    def __init__(self, message: str, *, claim: str) -> None:
        super().__init__(message, field=claim)
        self.claim = claim


class TokenKeysUnavailableError(ApiError):
    """The identity provider's keys cannot be fetched now (HTTP 503)."""


class AuthSettingsError(ApiError):
    """The auth settings name no usable key source, or more than one."""


class AccessDeniedError(ApiError):
    """The caller's role may not read or do this (HTTP 403); the message names the rule."""

    rule: str

    def __init__(self, caller: Caller, rule: str) -> None:
        super().__init__(rule, rule=rule)
        self.caller = caller


class RequestRuleError(ApiError):
    """A request that fits the schema but breaks a rule the schema cannot state (an
    unknown query parameter, a partner that is not in the directory); names both."""

    field: str
    rule: str

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message, field=field, rule=rule)
