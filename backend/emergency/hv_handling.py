"""The call-centre desk's handling of a High Voltage Warn Call (MINI Connected §2b,
docs/requirements.md#hv-r3).

MINI Connected §2b (HV-R2): the car sends the relevant data "naar het verantwoordelijke BMW Call
Center", which "geeft de relevante informatie over het incident door aan het
dichtstbijzijnde lokale PSAP"; the PSAP alerts the emergency services. The call
centre processes and stores the §2b fields "samen met de contactgegevens van de klant",
which the car does not send, so ``hand_over`` adds the contact the call centre holds in
the customer profile (``backend.emergency.edges.CustomerContacts``; HV-R2). There are no
built-in customers: a car without a profile contact is handed over with
``contact_missing``.

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

from dataclasses import dataclass
from typing import Final

from backend.emergency.psap_directory import Psap, responsible_psap
from protocols.catalogue import entry
from protocols.hv import HvWarnCall

WARNING_LIMIT_S: Final = 300.0  # UN GTR 20: thermal-event warning 5 minutes ahead
SERVICE: Final = "hv_warn_call"  # the catalogue entry: its rule is the record's retention


@dataclass(frozen=True, slots=True)
class Customer:
    """The contact data the call centre holds for a car's customer (its profile's)."""

    name: str
    phone: str
    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HvHandover:
    """What the call centre passes to the PSAP.

    ``customer`` None means the customer profile holds no contact for the VIN: the PSAP
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


def hand_over(call: HvWarnCall, customer: Customer | None, *, now: float,
              network_country: str = "") -> HvHandover:
    """Add the customer's contact data (``customer``, from the car's profile) and choose
    the nearest local PSAP for ``call``."""
    choice = responsible_psap(call.lat, call.lon, network_country=network_country)
    elapsed = now - call.timestamp
    return HvHandover(
        call=call, customer=customer, psap=choice.psap,
        psap_reason=choice.reason, handed_over_at=now, detection_to_desk_s=elapsed,
        within_warning_limit=elapsed <= WARNING_LIMIT_S,
        delete_after=delete_after(call.timestamp),
    )

