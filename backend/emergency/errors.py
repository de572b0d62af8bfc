"""Errors of the eCall path: desks, incidents, hand-overs::

    BackendError
    └── EmergencyError
        ├── DeskError       an unknown desk, or an incident not at it
        └── NoVinError      an incident with no VIN to send a request to

A desk's record that keeps changing under its transaction is the plumbing's
``StoreBusyError`` (``backend.infra.errors``): the desk waits it out like a Redis outage.
"""

from __future__ import annotations

from backend.errors import BackendError


class EmergencyError(BackendError):
    """Base of the errors of the eCall path: desks, incidents, hand-overs."""


class DeskError(EmergencyError):
    """An unknown desk or incident was asked for."""

    def __init__(self, message: str, *, desk: str = "", incident: str = "") -> None:
        super().__init__(message)
        self.desk = desk
        self.incident = incident


class NoVinError(EmergencyError):
    """The incident names no VIN, so no request can be sent to its car."""

    def __init__(self, message: str, *, incident: str, rule: str) -> None:
        super().__init__(message, field="vin", rule=rule)
        self.incident = incident
