"""Errors of the backend: one tree, whose root is here and whose branches are drawn again,
each with its classes, in its package's ``errors.py``::

    BackendError                        a message, and the field and rule it names (or None)
    ├── InfraError                      backend.infra.errors: the plumbing
    │   ├── StoreUnavailableError       Redis failed or did not answer: retry later
    │   ├── StoreBusyError              a record kept changing under every WATCH try
    │   └── RecordFieldError            a stored field that does not read as its type
    ├── PrivacyError                    backend.privacy.errors: retention and budgets
    │   ├── RetentionError              a retention request that breaks a rule
    │   │   ├── NeverStoredError        a never_stored record about to be written
    │   │   ├── UnknownRecordError      a record never tagged, or already deleted
    │   │   └── ErasureRefusedError     erasure the service's rule does not allow
    │   ├── UnknownServiceError         a service the catalogue does not list
    │   ├── BudgetExceededError         a message rejected for its volume budget
    │   ├── UnknownVehicleError         a VIN the budget meter never saw
    │   └── MeterConsistencyError       the meter's script and judgement disagree
    ├── EmergencyError                  backend.emergency.errors: desks and incidents
    │   ├── DeskError                   an unknown desk, or an incident not at it
    │   ├── NoVinError                  an incident with no VIN to send a request to
    │   └── MalformedEntryError         a stream entry or stored record the path cannot read
    ├── AssistanceError                 backend.assistance.errors: assistance cases
    │   └── UnknownAssistanceCaseError  an assistance case that does not exist
    ├── OtaError                        backend.ota.errors: campaigns and vehicle facts
    │   ├── CampaignSpecError           a campaign described wrongly
    │   ├── CampaignTransitionError     a campaign or car moved against its life cycle
    │   ├── CampaignExistsError         a campaign id already taken by another spec
    │   ├── UnknownCampaignError        a campaign id never stored
    │   ├── VehicleNotInCampaignError   a car the campaign does not target
    │   ├── UnknownVehicleFactsError    a car whose facts were never registered
    │   └── CampaignConflictError       a campaign that kept changing under an update
    ├── ServicesError                   backend.services.errors: the services lane
    │   ├── CaseTransitionError         a maintenance case moved against its life cycle
    │   ├── UnknownCaseError            a case that does not exist, or not at the partner
    │   ├── UnknownPartnerError         a service partner the directory does not list
    │   └── UnknownProfileError         a vehicle without a customer record
    └── ApiError                        backend.api.errors: callers and requests
        ├── TokenError                  a bearer token missing, malformed or not for us
        ├── IdentityError               a token whose claims name no caller
        ├── TokenKeysUnavailableError   the identity provider's keys cannot be fetched
        ├── AuthSettingsError           settings that name no usable token key source
        ├── AccessDeniedError           a caller whose role may not have this
        └── RequestRuleError            a request that fits the schema, breaking a rule

Library errors are mapped at the edges, never inside the domain: a lane waits out Redis
errors and ``StoreBusyError`` (``backend.infra.redis_retry``); the HTTP API turns a Redis
failure under a request into ``StoreUnavailableError`` (``backend.infra.store_errors``),
and gives each class of this tree its HTTP status in one table
(``backend.api.error_statuses``).
``tests/backend/test_error_tree.py`` checks that these drawings are the classes as defined.
"""

from __future__ import annotations


class BackendError(Exception):
    """Base of the backend's own errors; ``field`` and ``rule`` name what was broken, when
    the error knows, so an operator (or the API's error body) can say it."""

    def __init__(self, message: str, *, field: str | None = None,
                 rule: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
