"""Errors of the plumbing: Redis or the broker unreachable, a stream that refuses::

    BackendError
    └── InfraError
"""

from __future__ import annotations

from backend.errors import BackendError


class InfraError(BackendError):
    """Base of the errors of the plumbing: Redis or the broker unreachable."""
