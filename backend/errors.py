"""Errors of the backend, and how the adapters map library errors onto them::

    BackendError
    └── DeskError        a desk or incident that does not exist
"""

from __future__ import annotations


class BackendError(Exception):
    """Base of the backend's own errors."""


class DeskError(BackendError):
    """An unknown desk or incident was asked for."""

    def __init__(self, message: str, *, desk: str = "", incident: str = "") -> None:
        super().__init__(message)
        self.desk = desk
        self.incident = incident
