"""Errors of the eCall path: desks, incidents, hand-overs::

    BackendError
    └── EmergencyError
"""

from __future__ import annotations

from backend.errors import BackendError


class EmergencyError(BackendError):
    """Base of the errors of the eCall path: desks, incidents, hand-overs."""
