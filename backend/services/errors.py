"""Errors of the services lane: maintenance cases, partners, the registry::

    BackendError
    └── ServicesError
"""

from __future__ import annotations

from backend.errors import BackendError


class ServicesError(BackendError):
    """Base of the errors of the services lane: maintenance cases, partners, the registry."""
