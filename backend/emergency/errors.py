"""Errors of the eCall path: desks, incidents, hand-overs::

    BackendError
    └── EmergencyError
        ├── DeskError             an unknown desk, or an incident not at it
        ├── NoVinError            an incident with no VIN to send a request to
        └── MalformedEntryError   a stream entry or stored record the path cannot read

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


class MalformedEntryError(EmergencyError):
    """A stream entry or stored record lacks a field or holds one of the wrong type.

    Like the wire contract's errors it names the field and the rule, because a desk
    counts what it parks by (field, rule) and an operator reads the dead-letter stream
    by them.
    """

    field: str
    rule: str

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message, field=field, rule=rule)
