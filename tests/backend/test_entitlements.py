"""Road Assist 24/7 and Slovenian car-assistance (SI car assistance) entitlement decisions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from backend.assistance.entitlement_model import Service
from backend.assistance.entitlements import Grant, Incident, Policy, decide_entitlement
from backend.dates import add_months, add_working_days, working_days_between

BRUSSELS = (50.8467, 4.3525)
ANTWERP = (51.2194, 4.4025)  # ~41 km from Brussels
LIEGE = (50.6326, 5.5797)  # ~89 km
PARIS = (48.8566, 2.3522)
LJUBLJANA = (46.0569, 14.5058)
MARIBOR = (46.5547, 15.6459)
MONDAY = date(2025, 3, 3)

RA = Policy(programme="road_assist_24_7", home_country="BE", home_lat=BRUSSELS[0],
            home_lon=BRUSSELS[1], pickup_date=date(2022, 6, 15), new_or_used="new")
SI = Policy(programme="si_car_assistance", home_country="SI", home_lat=LJUBLJANA[0],
            home_lon=LJUBLJANA[1], policy_number="AA-1", period_start=date(2025, 1, 1),
            period_end=date(2025, 12, 31))


def _at(place: tuple[float, float], country: str, **changes: Any) -> Incident:
    base = Incident(kind="breakdown", lat=place[0], lon=place[1], country=country, on=MONDAY,
                    repair_working_days=4)
    return replace(base, **changes)


def _grant(policy: Policy, incident: Incident, service: Service) -> Grant | None:
    decision = decide_entitlement(policy, incident, (service,))
    return decision.grant(service)


# -- calendar --------------------------------------------------------------------------
def test_working_days_skip_weekends() -> None:
    """Friday + 1 working day is Monday; a week holds five working days."""
    friday = date(2025, 3, 7)
    assert add_working_days(friday, 1) == date(2025, 3, 10)
    assert working_days_between(MONDAY, date(2025, 3, 10)) == 5


def test_add_months_clamps_to_month_end() -> None:
    """31 Aug + 6 months is the last day of February."""
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)


# -- Road Assist 24/7: validity --------------------------------------------------------
@pytest.mark.parametrize(("on", "valid"), [
    (date(2022, 6, 14), False), (date(2022, 6, 15), True), (date(2027, 6, 14), True),
    (date(2027, 6, 15), False),
])
def test_road_assist_new_car_valid_five_years_from_pickup(on: date, valid: bool) -> None:
    """New cars: 5 years from the day of pickup (RA-R1)."""
    decision = decide_entitlement(RA, _at(BRUSSELS, "BE", on=on))
    assert decision.valid is valid
    assert any("RA-R1" in r for r in decision.reasons)


@pytest.mark.parametrize(("age", "on", "valid"), [
    (3.5, date(2024, 6, 14), True), (3.5, date(2024, 6, 15), False),
    (3.0, date(2023, 1, 1), False), (2.0, date(2023, 1, 1), False),
])
def test_road_assist_used_car_two_years_only_when_older_than_three(
        age: float, on: date, valid: bool) -> None:
    """Used cars older than 3 years: 2 years; younger used cars get no window (RA-R1)."""
    policy = replace(RA, new_or_used="used", vehicle_age_years_at_pickup=age)
    decision = decide_entitlement(policy, _at(BRUSSELS, "BE", on=on))
    assert decision.valid is valid
    if age <= 3.0:
        assert "older than 3 years" in decision.reasons[0]


def test_road_assist_void_without_authorised_maintenance() -> None:
    """Maintenance outside an authorised partner voids the programme (RA-R3)."""
    decision = decide_entitlement(replace(RA, maintenance_by_authorised_partner=False),
                                  _at(BRUSSELS, "BE"))
    assert not decision.valid
    assert decision.granted == ()
    assert "RA-R3" in decision.reasons[-1]


@pytest.mark.parametrize("cause", ["theft", "vandalism", "speed_event", "non_approved_parts",
                                   "general_service"])
def test_road_assist_excluded_situations(cause: str) -> None:
    """Theft, vandalism, speed events, unapproved parts, service work: not covered."""
    decision = decide_entitlement(RA, _at(BRUSSELS, "BE", cause=cause))
    assert not decision.valid


def test_road_assist_outside_europe_and_drivable_are_not_covered() -> None:
    """Europe only (RA-R2); a car that can go on is no breakdown (RA-R4)."""
    assert not decide_entitlement(RA, _at((33.57, -7.59), "MA")).valid
    assert not decide_entitlement(RA, _at(BRUSSELS, "BE", drivable=True)).valid


# -- Road Assist 24/7: mobility guarantee ----------------------------------------------
@pytest.mark.parametrize(("place", "country", "repair", "days"), [
    (ANTWERP, "BE", 10, 3), (PARIS, "FR", 10, 5), (ANTWERP, "BE", 2, 2), (PARIS, "FR", 4, 4),
])
def test_road_assist_replacement_car_three_days_home_five_abroad(
        place: tuple[float, float], country: str, repair: int, days: int) -> None:
    """Until repaired, max 3 working days at home and 5 abroad (RA-R6)."""
    grant = _grant(RA, _at(place, country, repair_working_days=repair), "replacement_car")
    assert grant == Grant("replacement_car", days, "working_days", "RA-R6")


@pytest.mark.parametrize(("repair", "granted"), [(3, False), (4, True)])
def test_road_assist_collection_only_when_repair_over_three_days(repair: int,
                                                                  granted: bool) -> None:
    """EUR 650 collection or return only when the repair takes more than 3 working days."""
    grant = _grant(RA, _at(ANTWERP, "BE", repair_working_days=repair), "collection_or_return")
    assert (grant is not None) is granted
    if grant:
        assert (grant.limit, grant.unit) == (650, "EUR")


def test_road_assist_taxi_and_train_limits() -> None:
    """Taxi up to EUR 80 (RA-R6), train or plane up to EUR 650 (RA-R6)."""
    decision = decide_entitlement(RA, _at(ANTWERP, "BE"), ("taxi", "train_or_plane"))
    assert decision.grant("taxi") == Grant("taxi", 80, "EUR", "RA-R6")
    assert decision.grant("train_or_plane") == Grant("train_or_plane", 650, "EUR",
                                                     "RA-R6")


@pytest.mark.parametrize(("place", "repair", "nights"), [
    (ANTWERP, 10, None), (LIEGE, 10, 4), (LIEGE, 1, 1), (LIEGE, 0, None),
])
def test_road_assist_hotel_only_beyond_fifty_km(place: tuple[float, float], repair: int,
                                               nights: int | None) -> None:
    """Max 4 nights until repaired, only more than 50 km from home (RA-R6)."""
    grant = _grant(RA, _at(place, "BE", repair_working_days=repair), "hotel")
    assert (grant.limit if grant else None) == nights


def test_road_assist_hotel_nights_span_the_weekend() -> None:
    """A Friday breakdown repaired in one working day needs three nights."""
    grant = _grant(RA, _at(LIEGE, "BE", on=date(2025, 3, 7), repair_working_days=1), "hotel")
    assert grant is not None
    assert grant.limit == 3


def test_road_assist_towing_only_when_not_repairable_on_site() -> None:
    """Towing at no extra cost when on-site repair is impossible (RA-R6)."""
    assert _grant(RA, _at(ANTWERP, "BE"), "towing") is not None
    assert _grant(RA, _at(ANTWERP, "BE", repairable_on_site=True), "towing") is None


def test_road_assist_minor_mishaps_at_customer_cost() -> None:
    """Lost keys, wrong fuel, empty tank: organised but charged (RA-R5)."""
    grant = _grant(RA, _at(ANTWERP, "BE", cause="wrong_fuel"), "towing")
    assert grant is not None
    assert grant.unit == "at_customer_cost"


def test_road_assist_run_flat_extras_need_four_hours_wait() -> None:
    """Run-flat: extra services only if immobilised and no tyres within 4 h (RA-R5)."""
    quick = _at(LIEGE, "BE", cause="flat_tyre", run_flat_tyres=True,
                tyres_available_within_h=2.0)
    slow = replace(quick, tyres_available_within_h=6.0)
    assert _grant(RA, quick, "replacement_car") is None
    assert _grant(RA, slow, "replacement_car") is not None


def test_road_assist_every_service_when_none_requested() -> None:
    """Without a request list the decision covers every programme service."""
    decision = decide_entitlement(RA, _at(LIEGE, "BE", repair_working_days=5))
    assert {g.service for g in decision.granted} == {
        "on_site_help", "towing", "replacement_car", "collection_or_return", "taxi",
        "train_or_plane", "hotel"}


# -- SI car assistance: Slovenia -------------------------------------------------------
def test_si_limits_of_the_services() -> None:
    """Recovery, tow and passenger transport EUR 500; on-site help 1 hour (arts. 5-13)."""
    incident = _at(MARIBOR, "SI", needs_recovery=True)
    decision = decide_entitlement(SI, incident)
    assert decision.valid
    assert decision.grant("recovery") == Grant("recovery", 500, "EUR",
                                               "SI car assistance art. 8(2)")
    assert decision.grant("tow") == Grant("tow", 500, "EUR", "SI car assistance art. 9(4)")
    assert decision.grant("passenger_transport") == Grant(
        "passenger_transport", 500, "EUR", "SI car assistance art. 13(6)")
    assert decision.grant("storage") is not None
    assert decision.grant("on_site_help") is None
    on_site = _grant(SI, _at(MARIBOR, "SI", repairable_on_site=True), "on_site_help")
    assert on_site == Grant("on_site_help", 1, "hours", "SI car assistance art. 5(2)")


@pytest.mark.parametrize(("used", "granted"), [(2, True), (3, False)])
def test_si_ev_out_of_charge_tows_three_per_period(used: int, granted: bool) -> None:
    """EV out of charge: at most 3 tows per insurance period (art. 9(2))."""
    policy = replace(SI, ev_tows_used_in_period=used)
    grant = _grant(policy, _at(MARIBOR, "SI", cause="ev_out_of_charge"), "tow")
    assert (grant is not None) is granted


@pytest.mark.parametrize(("within", "granted"), [(24.0, True), (30.0, False)])
def test_si_spare_keys_within_24_hours(within: float, granted: bool) -> None:
    """Spare keys are delivered if they can be taken within 24 h (art. 6(3))."""
    incident = _at(MARIBOR, "SI", cause="lost_keys", spare_keys_collectable_within_h=within)
    assert (_grant(SI, incident, "spare_key_delivery") is not None) is granted


def test_si_abroad_services_and_territory() -> None:
    """Parts and scrapping only abroad; Europe is covered, elsewhere not (arts. 11, 12, 16)."""
    abroad = _at((45.81, 15.98), "HR", vehicle_destroyed=True)
    decision = decide_entitlement(SI, abroad, ("parts_abroad", "customs_and_scrapping"))
    assert decision.refused == ()
    assert any("art. 18" in r for r in decision.reasons)
    home = decide_entitlement(SI, _at(MARIBOR, "SI"), ("parts_abroad",))
    assert home.refused == ("parts_abroad",)
    assert not decide_entitlement(SI, _at((30.04, 31.24), "EG")).valid


@pytest.mark.parametrize(("changes", "valid"), [
    ({"with_triglav_mtpl": False}, False),
    ({"vehicle_category": "truck", "max_mass_t": 3.5}, True),
    ({"vehicle_category": "truck", "max_mass_t": 7.5}, False),
    ({"vehicle_category": "motorcycle", "motor_kw": 4.0}, False),
    ({"vehicle_category": "motorcycle", "motor_kw": 11.0}, True),
    ({"vehicle_category": "caravan"}, False),
    ({"vehicle_category": "caravan", "coupled_to_eligible_vehicle": True}, True),
])
def test_si_eligible_vehicles_and_mtpl(changes: dict[str, Any], valid: bool) -> None:
    """Only beside Triglav MTPL (art. 1) and for the vehicles of art. 2."""
    policy = replace(SI, **changes)
    assert decide_entitlement(policy, _at(MARIBOR, "SI")).valid is valid


@pytest.mark.parametrize(("on", "refused_on", "valid"), [
    (date(2026, 1, 30), None, True),
    (date(2026, 1, 31), None, False),
    (date(2026, 1, 15), date(2025, 12, 28), False),
    (date(2026, 1, 15), date(2025, 12, 30), True),
])
def test_si_respiro_period(on: date, refused_on: date | None, valid: bool) -> None:
    """30 more days unless refused at least 3 days before expiry (art. 19)."""
    policy = replace(SI, extension_refused_on=refused_on)
    decision = decide_entitlement(policy, _at(MARIBOR, "SI", on=on))
    assert decision.valid is valid
    if valid:
        assert any("full annual premium" in r for r in decision.reasons)


def test_si_cover_ends_on_change_of_owner() -> None:
    """Cover ends at 24:00 on the day the new owner takes over (art. 20)."""
    policy = replace(SI, owner_changed_on=date(2025, 3, 3))
    assert decide_entitlement(policy, _at(MARIBOR, "SI", on=date(2025, 3, 3))).valid
    later = decide_entitlement(policy, _at(MARIBOR, "SI", on=date(2025, 3, 4)))
    assert not later.valid
    assert "art. 20" in later.reasons[-1]


@pytest.mark.parametrize("changes", [
    {"cause": "offroad_or_competition"}, {"cause": "repeated_problem"},
    {"reported_to_centre": False}, {"organised_without_permission": True},
    {"drivable": True},
])
def test_si_exclusions(changes: dict[str, object]) -> None:
    """Art. 17 exclusions and events that are no assistance case give no cover."""
    assert not decide_entitlement(SI, _at(MARIBOR, "SI", **changes)).valid


def test_si_professional_use_refuses_passenger_transport() -> None:
    """Taxi or rent-a-car use excludes passenger transport only (art. 17(1)8)."""
    decision = decide_entitlement(replace(SI, professional_use=True), _at(MARIBOR, "SI"),
                                  ("tow", "passenger_transport"))
    assert decision.valid
    assert decision.refused == ("passenger_transport",)
