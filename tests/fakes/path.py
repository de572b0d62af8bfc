"""The whole eCall path without servers: relay, PSAP desks and call centre on the fakes."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.emergency.desks import CallCentreDesk, PsapDesks
from backend.emergency.hv_handling import Customer
from backend.emergency.relay import EmergencyRelay
from backend.infra.counters import Counters
from tests.fakes.broker import FakeBroker
from tests.fakes.records import FakeCallCentreCases, FakePsapIncidents
from tests.fakes.streams import FakeStreams

PSAP_DESKS = ("psap-BE", "psap-NL", "psap-SI", "psap-INTL")


@dataclass
class FakeContacts:
    """The customer profiles' contacts, by VIN (``CustomerContacts``)."""

    by_vin: dict[str, Customer] = field(default_factory=dict)

    async def contact(self, vin: str) -> Customer | None:
        return self.by_vin.get(vin)


@dataclass
class EcallPath:
    """The OEM and PSAP databases' streams and records, the broker link, and the parts."""

    oem: FakeStreams = field(default_factory=FakeStreams)
    psap: FakeStreams = field(default_factory=FakeStreams)
    broker: FakeBroker = field(default_factory=FakeBroker)
    incidents: FakePsapIncidents = field(default_factory=FakePsapIncidents)
    cases: FakeCallCentreCases = field(default_factory=FakeCallCentreCases)
    counters: Counters = field(default_factory=Counters)
    contacts: FakeContacts = field(default_factory=FakeContacts)

    def relay(self) -> EmergencyRelay:
        return EmergencyRelay(oem=self.oem, psap=self.psap, broker=self.broker,
                              counters=self.counters)

    def psap_desks(self, consumer: str = "c") -> PsapDesks:
        return PsapDesks(self.psap, self.incidents, consumer=consumer, counters=self.counters,
                         desk_names=PSAP_DESKS)

    def callcentre(self, consumer: str = "c") -> CallCentreDesk:
        return CallCentreDesk(self.oem, self.cases, self.psap, consumer=consumer,
                              counters=self.counters, customers=self.contacts)

    def count(self, family: str, name: str) -> int:
        counts = self.counters.totals.get(family)
        return counts[name] if counts is not None else 0
