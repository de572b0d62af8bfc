"""The call centre's view of the customer profile: the contact an HV warn call carries.

The emergency package may not read the profile (it sits below services, and services
below it may not know its types); it asks through
``backend.emergency.edges.CustomerContacts``, and this adapter, where the roles are wired,
answers from the profile the operator wrote with ``PUT /vehicles/{vin}/profile``
(docs/requirements.md#hv-r2).
"""

from __future__ import annotations

from redis.asyncio import Redis

from backend.emergency.hv_handling import Customer
from backend.services.vehicle_registry import load_profile


class ProfileContacts:
    """``CustomerContacts`` read from the customer profiles in the OEM Redis."""

    def __init__(self, oem: Redis) -> None:
        self._oem = oem

    async def contact(self, vin: str) -> Customer | None:
        profile = await load_profile(self._oem, vin)
        if profile is None or profile.contact is None:
            return None
        found = profile.contact
        return Customer(name=found.name, phone=found.phone, language=found.language)
