"""The call centre's HV warn-call handover: contact data, PSAP, retention (HV-R2 to HV-R4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from backend.emergency.hv_handling import SERVICE, Customer, delete_after, hand_over
from protocols.catalogue import entry
from protocols.hv import HvWarnCall

VIN = "WMW11GD0X0T000001"
T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC).timestamp()


def _call(lat: float = 50.8467, lon: float = 4.3525, **changes: Any) -> HvWarnCall:
    values: dict[str, Any] = {
        "vin": VIN, "lat": lat, "lon": lon, "model": "BEV", "plug_state": "plugged",
        "incident": f"{VIN}-hv-1", "timestamp": T0, "doors": {"front_left": "closed"},
        "boot": "closed", "engine_state": "off", "ignition": "off", "sent_ns": 1,
    }
    return HvWarnCall(**(values | changes))


def _epoch(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


CUSTOMER = Customer(name="Lotte Peeters", phone="+32 470 12 34 56", language="nl")


def test_hand_over_adds_the_customer_contact_data() -> None:
    """The desk adds name, phone and language from the profile; the car sends none."""
    handover = hand_over(_call(), CUSTOMER, now=T0 + 4.0)
    assert handover.customer == CUSTOMER
    assert not handover.contact_missing
    assert handover.call.model == "BEV"


def test_hand_over_without_a_profile_contact_still_reaches_the_psap() -> None:
    """No built-in customers: a car whose profile has no contact is handed over with
    ``contact_missing``."""
    missing = hand_over(_call(), None, now=T0)
    assert missing.contact_missing and missing.desk == "psap-BE"


@pytest.mark.parametrize(("lat", "lon", "country"), [
    (50.8467, 4.3525, "BE"), (48.1374, 11.5755, "DE"), (46.0569, 14.5058, "SI"),
])
def test_hand_over_routes_to_the_local_psap(lat: float, lon: float, country: str) -> None:
    """The nearest local PSAP follows from the GPS position, as for an eCall."""
    handover = hand_over(_call(lat, lon), None, now=T0)
    assert handover.psap.country == country
    assert handover.psap_reason == "position"
    assert handover.desk == f"psap-{country}"


def test_hand_over_falls_back_to_the_network_country_at_sea() -> None:
    """With no country at the position, the mobile network country decides."""
    handover = hand_over(_call(54.5, 3.0), None, now=T0, network_country="nl")
    assert handover.psap.country == "NL"
    assert handover.psap_reason == "network_country"


def test_hand_over_records_the_warning_delay() -> None:
    """Seconds from detection to desk, checked against the UN GTR 20 five minutes."""
    assert hand_over(_call(), None, now=T0 + 3.0).within_warning_limit
    late = hand_over(_call(), None, now=T0 + 301.0)
    assert late.detection_to_desk_s == 301.0
    assert not late.within_warning_limit


def test_hand_over_tags_retention() -> None:
    """The catalogue entry holds a fixed window; the deletion time is six months on."""
    handover = hand_over(_call(), None, now=T0)
    assert entry(SERVICE).retention.kind == "fixed_window"
    assert handover.delete_after == _epoch(2025, 9, 3, 12, 0)  # T0 is 3 March, 12:00


@pytest.mark.parametrize(("incident", "deleted"), [
    (_epoch(2025, 8, 31, 23, 30), _epoch(2026, 2, 28, 23, 30)),
    (_epoch(2023, 8, 31, 6, 0), _epoch(2024, 2, 29, 6, 0)),
    (_epoch(2025, 12, 31, 0, 0), _epoch(2026, 6, 30, 0, 0)),
    (_epoch(2025, 9, 30, 0, 0), _epoch(2026, 3, 30, 0, 0)),
    (_epoch(2025, 1, 15, 8, 0), _epoch(2025, 7, 15, 8, 0)),
    (_epoch(2026, 7, 15, 9, 0), _epoch(2027, 1, 15, 9, 0)),
])
def test_delete_after_is_six_calendar_months(incident: float, deleted: float) -> None:
    """The date six calendar months on, end of a shorter month, same time of day (HV-R4)."""
    assert delete_after(incident) == deleted

