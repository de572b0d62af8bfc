"""Errors of the HTTP API: identities, tokens, access::

    BackendError
    └── ApiError
"""

from __future__ import annotations

from backend.errors import BackendError


class ApiError(BackendError):
    """Base of the errors of the HTTP API: identities, tokens, access."""
