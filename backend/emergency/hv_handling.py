"""The call-centre desk's handling of a High Voltage Warn Call (MINI Connected §2b,
docs/requirements.md#hv-r3).

MINI Connected §2b (HV-R2): the car sends the relevant data "naar het verantwoordelijke BMW Call
Center", which "geeft de relevante informatie over het incident door aan het
dichtstbijzijnde lokale PSAP"; the PSAP alerts the emergency services. The call
centre processes and stores the §2b fields "samen met de contactgegevens van de klant",
which the car does not send, so ``hand_over`` adds them from the ``CustomerDirectory``.

The nearest local PSAP is chosen exactly as for an eCall, by
``backend.emergency.psap_directory.responsible_psap`` on the car's GPS position, falling back to
the mobile network country when the position gives none.

Retention: "zes maanden na een gemeld incident automatisch gewist" — a fixed window
counted from the incident's timestamp, in calendar months (``backend.dates``).

UN GTR 20 asks that a thermal-event warning come at least 5 minutes before a hazard;
the handover records how long the call took from detection to the desk and whether
that stayed within ``WARNING_LIMIT_S``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from backend.emergency.psap_directory import Psap, responsible_psap
from protocols.catalogue import entry
from protocols.hv import HvWarnCall

WARNING_LIMIT_S: Final = 300.0  # UN GTR 20: thermal-event warning 5 minutes ahead
SERVICE: Final = "hv_warn_call"  # the catalogue entry: its rule is the record's retention


@dataclass(frozen=True, slots=True)
class Customer:
    """The contact data the call centre holds for a car's customer."""

    name: str
    phone: str
    language: str


SAMPLE_CUSTOMERS: Final = MappingProxyType({
    "WMW11GD0X0T000001": Customer("Lotte Peeters", "+32 470 12 34 56", "nl"),
    "WMW11GD0X0T000002": Customer("Jonas Weber", "+49 151 2345 6789", "de"),
    "WMW11GD0X0T000003": Customer("Maja Novak", "+386 41 234 567", "sl"),
})


@dataclass(frozen=True, slots=True)
class CustomerDirectory:
    """VIN → customer contact data; immutable, extended with ``with_customer``."""

    customers: MappingProxyType[str, Customer] = field(
        default_factory=lambda: SAMPLE_CUSTOMERS)

    @classmethod
    def empty(cls) -> CustomerDirectory:
        return cls(MappingProxyType({}))

    def with_customer(self, vin: str, *, name: str, phone: str,
                      language: str) -> CustomerDirectory:
        """A directory that also (or now) knows ``vin``'s customer."""
        merged = dict(self.customers) | {vin: Customer(name, phone, language)}
        return CustomerDirectory(MappingProxyType(merged))

    def lookup(self, vin: str) -> Customer | None:
        return self.customers.get(vin)


@dataclass(frozen=True, slots=True, kw_only=True)
class HvHandover:
    """What the call centre passes to the PSAP.

    ``customer`` None means the directory has no contact data for the VIN: the PSAP
    still gets the incident, and ``contact_missing`` says so. ``delete_after`` is epoch
    seconds, six calendar months after the incident's timestamp; the retention engine
    deletes by the record's tag, whose rule is ``SERVICE``'s in the catalogue.
    """

    call: HvWarnCall
    customer: Customer | None
    psap: Psap
    psap_reason: str
    handed_over_at: float
    detection_to_desk_s: float
    within_warning_limit: bool
    delete_after: float

    @property
    def contact_missing(self) -> bool:
        return self.customer is None

    @property
    def desk(self) -> str:
        return self.psap.desk


def delete_after(incident_timestamp: float) -> float:
    """Six months after the incident (HV-R4: "zes maanden na een gemeld incident").

    The window is the catalogue's (six calendar months), the one the retention engine
    deletes by, so the record's own field and the sweeper never disagree.
    """
    return entry(SERVICE).retention.window_end(incident_timestamp)


def hand_over(call: HvWarnCall, directory: CustomerDirectory, *, now: float,
              network_country: str = "") -> HvHandover:
    """Add the customer's contact data and choose the nearest local PSAP for ``call``."""
    choice = responsible_psap(call.lat, call.lon, network_country=network_country)
    elapsed = now - call.timestamp
    return HvHandover(
        call=call, customer=directory.lookup(call.vin), psap=choice.psap,
        psap_reason=choice.reason, handed_over_at=now, detection_to_desk_s=elapsed,
        within_warning_limit=elapsed <= WARNING_LIMIT_S,
        delete_after=delete_after(call.timestamp),
    )

