"""Errors of assistance entitlements and cases::

    BackendError
    └── AssistanceError
        └── UnknownAssistanceCaseError  an assistance case that does not exist
"""

from __future__ import annotations

from backend.errors import BackendError


class AssistanceError(BackendError):
    """Base of the errors of assistance entitlements and cases."""


class UnknownAssistanceCaseError(AssistanceError):
    """An assistance case that does not exist (never opened, or already deleted)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no assistance case {request_id!r}")
        self.request_id = request_id
