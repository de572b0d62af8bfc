"""Errors of OTA campaigns and events::

    BackendError
    └── OtaError
        ├── CampaignSpecError           a campaign described wrongly
        ├── CampaignTransitionError     a campaign or car moved against its life cycle
        ├── CampaignExistsError         a campaign id already taken by another spec
        ├── UnknownCampaignError        a campaign id never stored
        ├── VehicleNotInCampaignError   a car the campaign does not target
        ├── UnknownVehicleFactsError    a car whose facts were never registered
        └── CampaignConflictError       a campaign that kept changing under an update
"""

from __future__ import annotations

from backend.errors import BackendError


class OtaError(BackendError):
    """Base of the errors of OTA campaigns and events."""


class CampaignSpecError(OtaError):
    """A campaign was described wrongly; ``field`` names the culprit, ``rule`` the rule."""

    field: str
    rule: str

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message, field=field, rule=rule)


class CampaignTransitionError(OtaError):
    """A campaign or one of its cars was moved against its life cycle."""

    rule: str

    def __init__(self, message: str, *, campaign_id: str, rule: str, vin: str = "") -> None:
        super().__init__(message, rule=rule)
        self.campaign_id = campaign_id
        self.vin = vin


class CampaignExistsError(OtaError):
    """A campaign id that is already taken by a campaign with another spec."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"campaign {campaign_id!r} exists with another spec",
                         field="campaign_id", rule="a campaign id is created once")
        self.campaign_id = campaign_id


class UnknownCampaignError(OtaError):
    """A campaign id that was never stored."""

    def __init__(self, message: str, *, campaign_id: str) -> None:
        super().__init__(message)
        self.campaign_id = campaign_id


class VehicleNotInCampaignError(OtaError):
    """A car the campaign does not target."""

    def __init__(self, campaign_id: str, vin: str) -> None:
        super().__init__(f"vehicle {vin!r} is not in campaign {campaign_id!r}")
        self.campaign_id = campaign_id
        self.vin = vin


class UnknownVehicleFactsError(OtaError):
    """A car whose facts (model, propulsion, OS, country) were never registered."""

    def __init__(self, vin: str) -> None:
        super().__init__(f"no facts for vehicle {vin!r}")
        self.vin = vin


class CampaignConflictError(OtaError):
    """The campaign kept changing under an update; the caller may try again later."""

    def __init__(self, message: str, *, campaign_id: str) -> None:
        super().__init__(message)
        self.campaign_id = campaign_id
