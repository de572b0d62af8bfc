"""Errors of retention and data-volume budgets::

    BackendError
    └── PrivacyError
"""

from __future__ import annotations

from backend.errors import BackendError


class PrivacyError(BackendError):
    """Base of the errors of retention and data-volume budgets."""
