"""Errors of retention and data-volume budgets::

    BackendError
    └── PrivacyError
        ├── RetentionError              a retention request that breaks a rule
        │   ├── NeverStoredError        a never_stored record about to be written
        │   ├── UnknownRecordError      a record never tagged, or already deleted
        │   └── ErasureRefusedError     erasure the service's rule does not allow
        ├── UnknownServiceError         a service the catalogue does not list
        ├── BudgetExceededError         a message rejected for its volume budget
        ├── UnknownVehicleError         a VIN the budget meter never saw
        └── MeterConsistencyError       the meter's script and judgement disagree
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.errors import BackendError

if TYPE_CHECKING:
    from backend.privacy.budget_meter import Verdict


class PrivacyError(BackendError):
    """Base of the errors of retention and data-volume budgets."""


class RetentionError(PrivacyError):
    """A retention request that breaks a rule; names the field and the rule it breaks."""

    field: str
    rule: str

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message, field=field, rule=rule)

    def __str__(self) -> str:
        text = super().__str__()
        return text if text.startswith(self.field) else f"{self.field}: {text}"


class NeverStoredError(RetentionError):
    """A record of a ``never_stored`` service was about to be written (Legal/PSAP eCall)."""


class UnknownRecordError(RetentionError):
    """A record that was never tagged, or has already been deleted."""


class ErasureRefusedError(RetentionError):
    """Erasure on request of a service whose rule does not allow it."""

    def __init__(self, message: str, *, service: str, kind: str) -> None:
        super().__init__(message, field="service",
                         rule=f"{kind}: not erasable on request")
        self.service = service
        self.kind = kind


class UnknownServiceError(PrivacyError):
    """A service the catalogue does not list."""

    def __init__(self, service: str, *, field: str = "service") -> None:
        super().__init__(f"no catalogue service {service!r}", field=field,
                         rule="a catalogue key")
        self.service = service


class BudgetExceededError(PrivacyError):
    """A message was rejected for its volume budget; names the bound and the rule."""

    def __init__(self, message: str, *, verdict: Verdict) -> None:
        super().__init__(message, field=verdict.field or "", rule=verdict.rule)
        self.verdict = verdict


class UnknownVehicleError(PrivacyError):
    """A VIN the meter has never seen a message of."""

    def __init__(self, message: str, *, vin: str) -> None:
        super().__init__(message, field="vin", rule="a vehicle the meter has seen")
        self.vin = vin


class MeterConsistencyError(PrivacyError):
    """The store's script and the pure judgement disagreed; a bug, never expected."""
