"""Errors of assistance entitlements and cases::

    BackendError
    └── AssistanceError
"""

from __future__ import annotations

from backend.errors import BackendError


class AssistanceError(BackendError):
    """Base of the errors of assistance entitlements and cases."""
