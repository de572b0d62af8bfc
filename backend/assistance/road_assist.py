"""MINI Road Assist 24/7 entitlements ("Uw mobiliteitsgarantie").

Cited by the ids of docs/requirements.md#road-assist (RA-R1 to RA-R7). The programme:

* is valid 5 years from pickup of a new car (RA-R1), 2 years for a MINI Used Car NEXT
  older than 3 years (RA-R1), in all of Europe (RA-R2), and lapses when an oil service
  or maintenance was not done by an authorised MINI (Service) Partner (RA-R3);
* applies only to a breakdown (a technical defect that makes the trip impossible) or an
  accident (immobilisation by external impact) (RA-R4), not to general service
  work, theft or vandalism, speed events, or non-approved parts (RA-R4);
* helps with lost keys, wrong fuel or an empty tank but charges the costs (RA-R5);
* with run-flat tyres, adds services only when the car is immobilised and replacement
  tyres are not available within 4 hours, the tyres themselves not paid (RA-R5);
* grants: towing to the partner of choice at no extra cost when on-site repair is
  impossible (RA-R6), a replacement car until repaired, max 3 working days at home
  and 5 abroad (RA-R6), collection or return (max €650) when the repair takes more
  than 3 working days from arrival at the workshop (RA-R6), a taxi up to €80
  (RA-R6), train or plane up to €650 (RA-R6), and a hotel (max 4 stars) until repaired,
  max 4 nights, when the breakdown is more than 50 km from home (RA-R6).

The terms say nothing of used cars of 3 years or younger; they get no Road Assist
decision here and the reason says so. An EV out of charge is treated as the "lege
brandstof tank" of RA-R5 (the terms name only fuel).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from backend.assistance.entitlement_model import (
    EUROPE,
    ROAD_ASSIST_SERVICES,
    EntitlementDecision,
    Grant,
    Incident,
    Policy,
    Service,
    covered,
    invalid,
)
from backend.dates import add_working_days, add_years
from protocols.geo import km_between

NEW_CAR_YEARS: Final = 5  # RA-R1 "Vanaf die dag is uw bijstand 5 jaar geldig"
USED_CAR_YEARS: Final = 2  # RA-R1 "kunt u rekenen op 2 jaar gratis bijstand"
USED_CAR_MIN_AGE_YEARS: Final = 3  # RA-R1 "tweedehands wagens die ouder zijn dan 3 jaar"
REPLACEMENT_HOME_WD: Final = 3  # RA-R6 "In het binnenland tot maximum 3 werkdagen"
REPLACEMENT_ABROAD_WD: Final = 5  # RA-R6 "in het buitenland tot maximum 5 werkdagen"
COLLECTION_AFTER_WD: Final = 3  # RA-R6 "langer dan 3 werkdagen ... vanaf de aankomst"
COLLECTION_MAX_EUR: Final = 650  # RA-R6 "(max. € 650)"
TAXI_MAX_EUR: Final = 80  # RA-R6 "tot een maximumbedrag van € 80"
TRAIN_OR_PLANE_MAX_EUR: Final = 650  # RA-R6 "(max. € 650)"
HOTEL_MAX_NIGHTS: Final = 4  # RA-R6 "met een maximum van 4 nachten"
HOTEL_MAX_STARS: Final = 4  # RA-R6 "(met max. 4****)"
HOTEL_MIN_DISTANCE_KM: Final = 50.0  # RA-R6 "op meer dan 50 km van uw woonplaats"
RUN_FLAT_WAIT_H: Final = 4.0  # RA-R5 "niet binnen 4 uur beschikbaar"

EXCLUDED_CAUSES: Final = {  # RA-R4 "geldt ook niet in de volgende situaties"
    "general_service": "general MINI service and repair work (RA-R4)",
    "theft": "theft or vandalism and their consequences (RA-R4)",
    "vandalism": "theft or vandalism and their consequences (RA-R4)",
    "speed_event": "damage at driving events aimed at top speed (RA-R4)",
    "non_approved_parts": "non-approved parts or modifications (RA-R4)",
}
MINOR_MISHAPS: Final = frozenset({"lost_keys", "wrong_fuel", "empty_tank",
                                  "ev_out_of_charge"})  # RA-R5
MOBILITY: Final[frozenset[Service]] = frozenset(
    {"replacement_car", "collection_or_return", "taxi", "train_or_plane", "hotel"})


def decide_road_assist(policy: Policy, incident: Incident,
                       requested: tuple[Service, ...] | None = None) -> EntitlementDecision:
    """Apply Road Assist 24/7 to one incident; ``requested`` None asks for every service."""
    wanted = requested if requested is not None else ROAD_ASSIST_SERVICES
    reasons: list[str] = []
    if not _valid(policy, incident, reasons):
        return invalid("road_assist_24_7", reasons, wanted)
    return covered("road_assist_24_7", wanted, reasons, lambda service: filter(None, [
        _decide_service(service, policy, incident, reasons)]))


def validity_end(policy: Policy) -> date | None:
    """First day without cover, or None when the terms grant no window at all."""
    if policy.pickup_date is None:
        return None
    if policy.new_or_used == "new":
        return add_years(policy.pickup_date, NEW_CAR_YEARS)
    if policy.vehicle_age_years_at_pickup > USED_CAR_MIN_AGE_YEARS:
        return add_years(policy.pickup_date, USED_CAR_YEARS)
    return None


def _valid(policy: Policy, incident: Incident, reasons: list[str]) -> bool:
    end = validity_end(policy)
    if policy.pickup_date is None:
        reasons.append("no pickup date: Road Assist starts at pickup (RA-R1)")
        return False
    if end is None:
        reasons.append(
            "used car not older than 3 years at pickup: RA-R1 grants used-car "
            "assistance only to MINI Used Car NEXT cars older than 3 years")
        return False
    years = NEW_CAR_YEARS if policy.new_or_used == "new" else USED_CAR_YEARS
    window = (f"{policy.new_or_used} car, {years} years from pickup {policy.pickup_date} "
              f"until {end} (RA-R1)")
    if not policy.pickup_date <= incident.on < end:
        reasons.append(f"outside the validity window: {window}")
        return False
    reasons.append(f"within the validity window: {window}")
    if not policy.maintenance_by_authorised_partner:
        reasons.append("void: maintenance or oil service not done by an authorised MINI "
                       "(Service) Partner (RA-R3)")
        return False
    if incident.country not in EUROPE:
        reasons.append(f"{incident.country} is outside Europe (RA-R2)")
        return False
    if incident.cause in EXCLUDED_CAUSES:
        reasons.append(f"not covered: {EXCLUDED_CAUSES[incident.cause]}")
        return False
    if incident.drivable and not (incident.cause == "flat_tyre" and incident.run_flat_tyres):
        reasons.append("the car can continue: neither a breakdown nor an accident "
                       "(RA-R4)")
        return False
    return True


def _decide_service(service: Service, policy: Policy, incident: Incident,
                    reasons: list[str]) -> Grant | None:
    if service not in ROAD_ASSIST_SERVICES:
        reasons.append(f"{service}: not a Road Assist 24/7 service (Road Assist 24/7)")
        return None
    if incident.cause in MINOR_MISHAPS:
        reasons.append(f"{service}: organised, costs charged for lost keys, wrong fuel or "
                       "an empty tank (RA-R5)")
        return Grant(service, None, "at_customer_cost", "RA-R5")
    if service in MOBILITY and _run_flat_without_extras(incident):
        reasons.append(f"{service}: run-flat tyres, extra services only when immobilised "
                       f"and tyres not available within {RUN_FLAT_WAIT_H:g} h (RA-R5)")
        return None
    abroad = incident.country != policy.home_country
    repair = incident.repair_working_days
    if service == "on_site_help":
        reasons.append("on_site_help: free breakdown help by an authorised partner, limited "
                       "to making the car roadworthy; parts and wear not included "
                       "(RA-R6)")
        return Grant(service, None, "no_extra_cost", "RA-R6")
    if service == "towing":
        if incident.repairable_on_site:
            reasons.append("towing: only when on-site repair is impossible (RA-R6)")
            return None
        return Grant(service, None, "no_extra_cost", "RA-R6")
    if service == "replacement_car":
        cap = REPLACEMENT_ABROAD_WD if abroad else REPLACEMENT_HOME_WD
        if repair == 0:
            reasons.append("replacement_car: until the repair is done, and it is done the "
                           "same day (RA-R6)")
            return None
        days = min(cap, repair)
        reasons.append(f"replacement_car: {days} working days, max {cap} "
                       f"{'abroad' if abroad else 'at home'} (RA-R6)")
        return Grant(service, days, "working_days", "RA-R6")
    if service == "collection_or_return":
        if repair <= COLLECTION_AFTER_WD:
            reasons.append(f"collection_or_return: repair of {repair} working days is not "
                           f"more than {COLLECTION_AFTER_WD} (RA-R6)")
            return None
        return Grant(service, COLLECTION_MAX_EUR, "EUR", "RA-R6")
    if service == "taxi":
        return Grant(service, TAXI_MAX_EUR, "EUR", "RA-R6")
    if service == "train_or_plane":
        return Grant(service, TRAIN_OR_PLANE_MAX_EUR, "EUR", "RA-R6")
    return _hotel(policy, incident, reasons)


def _hotel(policy: Policy, incident: Incident, reasons: list[str]) -> Grant | None:
    away = km_between(policy.home_lat, policy.home_lon, incident.lat, incident.lon)
    if away <= HOTEL_MIN_DISTANCE_KM:
        reasons.append(f"hotel: breakdown {away:.0f} km from home, not more than "
                       f"{HOTEL_MIN_DISTANCE_KM:g} km (RA-R6)")
        return None
    repaired = add_working_days(incident.on, incident.repair_working_days)
    nights = min(HOTEL_MAX_NIGHTS, (repaired - incident.on).days)
    if nights == 0:
        reasons.append("hotel: until the car is repaired, and it is repaired the same day "
                       "(RA-R6)")
        return None
    reasons.append(f"hotel: {nights} nights (until repaired on {repaired}, max "
                   f"{HOTEL_MAX_NIGHTS}), max {HOTEL_MAX_STARS} stars, {away:.0f} km from "
                   "home (RA-R6)")
    return Grant("hotel", nights, "nights", "RA-R6")


def _run_flat_without_extras(incident: Incident) -> bool:
    if incident.cause != "flat_tyre" or not incident.run_flat_tyres:
        return False
    wait = incident.tyres_available_within_h
    return incident.drivable or (wait is not None and wait <= RUN_FLAT_WAIT_H)
