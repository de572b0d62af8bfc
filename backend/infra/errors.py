"""Errors of the plumbing: Redis that cannot be reached, a record that will not settle::

    BackendError
    └── InfraError
        ├── StoreUnavailableError   Redis failed or did not answer: retry later
        ├── StoreBusyError          a record kept changing under every WATCH try
        └── RecordFieldError        a stored field that does not read as its type
"""

from __future__ import annotations

from backend.errors import BackendError


class InfraError(BackendError):
    """Base of the errors of the plumbing: Redis or the broker unreachable."""


class StoreUnavailableError(InfraError):
    """Redis failed or did not answer; nothing is wrong with the request, retry later.

    Raised at an edge where a Redis library error meets a caller that must not see it
    (``backend.infra.store_errors``), never inside the domain."""


class StoreBusyError(InfraError):
    """A record kept changing under every WATCH try; the work is retried, never dropped
    (a lane waits it out like a Redis outage, ``backend.infra.redis_retry``)."""


class RecordFieldError(InfraError):
    """A stored field that does not read as its type, or a required field that is missing.

    Names the record type and the field, so a reader of a damaged hash learns which one."""

    def __init__(self, message: str, *, record: str, field: str) -> None:
        super().__init__(message, field=field, rule="stored_type")
        self.record = record
