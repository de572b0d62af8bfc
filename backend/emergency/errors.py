"""Errors of the eCall path: desks, incidents, hand-overs::

    BackendError
    └── EmergencyError
        └── MalformedEntryError   a stream entry or stored record the path cannot read
"""

from __future__ import annotations

from backend.errors import BackendError


class EmergencyError(BackendError):
    """Base of the errors of the eCall path: desks, incidents, hand-overs."""


class MalformedEntryError(EmergencyError):
    """A stream entry or stored record lacks a field or holds one of the wrong type.

    Like the wire contract's errors it names the field and the rule, because a desk
    counts what it parks by (field, rule) and an operator reads the dead-letter stream
    by them.
    """

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
