"""Errors of the services lane: maintenance cases, partners, the registry::

    BackendError
    └── ServicesError
        ├── CaseTransitionError     a maintenance case moved against its life cycle
        ├── UnknownCaseError        a case that does not exist, or not at the partner
        ├── UnknownPartnerError     a service partner the directory does not list
        └── UnknownProfileError     a vehicle without a customer record
"""

from __future__ import annotations

from backend.errors import BackendError


class ServicesError(BackendError):
    """Base of the errors of the services lane: maintenance cases, partners, the registry."""


class CaseTransitionError(ServicesError):
    """A case was moved against its life cycle; ``rule`` names the rule broken."""

    rule: str

    def __init__(self, message: str, *, case_id: str, rule: str) -> None:
        super().__init__(message, rule=rule)
        self.case_id = case_id


class UnknownCaseError(ServicesError):
    """A case that does not exist, or not at the partner that asked for it."""

    def __init__(self, message: str, *, case_id: str, partner_id: str = "") -> None:
        super().__init__(message)
        self.case_id = case_id
        self.partner_id = partner_id


class UnknownPartnerError(ServicesError):
    """A service partner the directory does not list."""

    def __init__(self, partner_id: str) -> None:
        super().__init__(f"unknown service partner {partner_id!r}", field="partner_id",
                         rule="a service partner of the directory")
        self.partner_id = partner_id


class UnknownProfileError(ServicesError):
    """A vehicle without a customer record (no CRM import wrote one)."""

    def __init__(self, vin: str) -> None:
        super().__init__(f"no profile for vehicle {vin!r}")
        self.vin = vin
