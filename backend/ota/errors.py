"""Errors of OTA campaigns and events::

    BackendError
    └── OtaError
"""

from __future__ import annotations

from backend.errors import BackendError


class OtaError(BackendError):
    """Base of the errors of OTA campaigns and events."""
