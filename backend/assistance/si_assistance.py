"""Slovenian MINI car-assistance insurance entitlements (SI car assistance, PG-aas-mini/23-12).

Article numbers are those of the insurer's terms (Zavarovalnica Triglav), as in
docs/requirements.md, "Slovenian car assistance":

* cover exists only beside Triglav motor liability insurance (art. 1), for the
  vehicles of art. 2, within the insurance period, extended by the 30-day respiro of
  art. 19 unless refused at least 3 days before expiry, and it ends at 24:00 on the day
  a new owner or user takes over (art. 20);
* an assistance case is an unexpected event that leaves the car undrivable or unsafe to
  drive, reported to the assistance centre (definitions, art. 17(1)1);
* territory: Slovenia and geographic Europe (art. 16); exclusions of art. 17;
* services with their limits: arts. 5-15 (constants below). Abroad the insurer pays the
  provider in full and reclaims the uncovered part (art. 18).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Final

from backend.assistance.entitlement_model import (
    EUROPE,
    SI_SERVICES,
    EntitlementDecision,
    Grant,
    Incident,
    Policy,
    Service,
    covered,
    invalid,
)
from backend.dates import add_years

HOME: Final = "SI"
ON_SITE_LABOUR_H: Final = 1  # art. 5(2), 6(2) "do ene ure dela"
SPARE_KEYS_WITHIN_H: Final = 24  # art. 6(3) "prevzem v 24 urah po prijavi"
RECOVERY_MAX_EUR: Final = 500  # art. 8(2) "največ do zneska 500 EUR"
TOW_MAX_EUR: Final = 500  # art. 9(4) "skupaj največ do zneska 500 EUR za posamezen ... primer"
EV_TOWS_PER_PERIOD: Final = 3  # art. 9(2) "največ tri asistenčne primere v zavarovalnem obdobju"
TRANSPORT_MAX_EUR: Final = 500  # art. 13(6) "500 EUR za prevoz vseh zavarovancev"
RESPIRO_DAYS: Final = 30  # art. 19 "podaljšajo za 30 dni (respiro rok)"
RESPIRO_REFUSAL_DAYS: Final = 3  # art. 19 "vsaj 3 dni pred iztekom"
MAX_MASS_T: Final = 3.5  # art. 2(1) trucks and service vehicles "z največ 3,5 tone"
MIN_MOTORCYCLE_KW: Final = 4.0  # art. 2(1) "motorna kolesa z močjo motorja nad 4 kW"
LIGHT_TRAILER_MAX_T: Final = 0.75  # art. 2(3) "ne presega 750 kg"

EXCLUDED_CAUSES: Final = {
    "offroad_or_competition": "off-road driving, competitions, training or circuits "
                              "(SI car assistance art. 17(1)4)",
    "war_or_riots": "war, invasion, riots, demonstrations or mobilisation "
                    "(SI car assistance art. 17(1)5)",
    "nuclear_or_natural_disaster": "nuclear energy, explosive cargo or natural disasters "
                                   "(SI car assistance art. 17(1)6)",
    "repeated_problem": "repeated identical problems within a short time "
                        "(SI car assistance art. 17(1)7)",
}


def decide_si(policy: Policy, incident: Incident,
              requested: tuple[Service, ...] | None = None) -> EntitlementDecision:
    """Apply SI car assistance to one incident; ``requested`` None asks for every service."""
    wanted = requested if requested is not None else SI_SERVICES
    reasons: list[str] = []
    if not _valid(policy, incident, reasons):
        return invalid("si_car_assistance", reasons, wanted)
    decision = covered("si_car_assistance", wanted, reasons,
                       lambda service: _decide_service(service, policy, incident, reasons))
    if incident.country != HOME:
        decision = replace(decision, reasons=(
            *decision.reasons, "abroad: the insurer pays the provider in full and reclaims "
            "the part not covered (SI car assistance art. 18)"))
    return decision


def cover_end(policy: Policy) -> date | None:
    """Last covered day: period end, plus the art. 19 respiro when it applies."""
    if policy.period_start is None or policy.period_end is None:
        return None
    end = policy.period_end
    at_least_a_year = add_years(policy.period_start, 1) <= policy.period_end + timedelta(days=1)
    refused = policy.extension_refused_on
    refused_in_time = refused is not None and (
        refused <= policy.period_end - timedelta(days=RESPIRO_REFUSAL_DAYS))
    if at_least_a_year and not refused_in_time:
        end += timedelta(days=RESPIRO_DAYS)
    if policy.owner_changed_on is not None:
        end = min(end, policy.owner_changed_on)  # art. 20: ends 24:00 that day
    return end


def _valid(policy: Policy, incident: Incident, reasons: list[str]) -> bool:
    if not policy.with_triglav_mtpl:
        reasons.append("only beside motor liability insurance at Triglav "
                       "(SI car assistance art. 1)")
        return False
    vehicle = _vehicle_refusal(policy)
    if vehicle:
        reasons.append(vehicle)
        return False
    end = cover_end(policy)
    if end is None or policy.period_start is None or policy.period_end is None:
        reasons.append("no insurance period on the policy (SI car assistance art. 19)")
        return False
    if not policy.period_start <= incident.on <= end:
        why = (f"cover ended at 24:00 on {policy.owner_changed_on}, the change of owner "
               "(SI car assistance art. 20)" if policy.owner_changed_on is not None
               and incident.on > policy.owner_changed_on else
               f"outside the insurance period {policy.period_start}..{end} "
               "(SI car assistance art. 19)")
        reasons.append(why)
        return False
    if incident.on > policy.period_end:
        reasons.append(f"in the 30-day respiro period: the full annual premium is due "
                       f"(SI car assistance art. 19); covered until {end}")
    else:
        reasons.append(f"within the insurance period {policy.period_start}..{policy.period_end}")
    if incident.country != HOME and incident.country not in EUROPE:
        reasons.append(f"{incident.country} is outside Slovenia and Europe "
                       "(SI car assistance art. 16)")
        return False
    if incident.drivable and incident.safe_to_drive:
        reasons.append("not an assistance case: the vehicle is drivable and safe "
                       "(SI car assistance, definitions)")
        return False
    if not incident.reported_to_centre:
        reasons.append("assistance centre not informed, help organised by the insured "
                       "(SI car assistance art. 17(1)1)")
        return False
    if incident.organised_without_permission:
        reasons.append("services organised without the centre's permission "
                       "(SI car assistance art. 17(1)2)")
        return False
    if incident.cause in EXCLUDED_CAUSES:
        reasons.append(f"excluded: {EXCLUDED_CAUSES[incident.cause]}")
        return False
    return True


def _vehicle_refusal(policy: Policy) -> str:
    category, mass, kw = policy.vehicle_category, policy.max_mass_t, policy.motor_kw
    if category in ("truck", "service_vehicle") and (mass is None or mass > MAX_MASS_T):
        return f"{category} over {MAX_MASS_T} t or of unknown mass (SI car assistance art. 2(1))"
    if category == "motorcycle" and (kw is None or kw <= MIN_MOTORCYCLE_KW):
        return f"motorcycle not over {MIN_MOTORCYCLE_KW:g} kW (SI car assistance art. 2(1))"
    if category == "caravan" and not policy.coupled_to_eligible_vehicle:
        return ("caravan only when coupled to an eligible towing vehicle "
                "(SI car assistance art. 2(2))")
    if category == "light_trailer" and (
        not policy.coupled_to_eligible_vehicle or mass is None or mass > LIGHT_TRAILER_MAX_T
    ):
        return "light trailer only up to 750 kg and coupled (SI car assistance art. 2(3))"
    return ""


def _decide_service(service: Service, policy: Policy, incident: Incident,
                    reasons: list[str]) -> list[Grant]:
    if service not in SI_SERVICES:
        reasons.append(f"{service}: not a service of the Slovenian insurance "
                       "(SI car assistance art. 4)")
        return []
    abroad = incident.country != HOME
    on_site = incident.repairable_on_site
    if service == "on_site_help":
        if not on_site:
            reasons.append("on_site_help: only when repairable on the spot "
                           "(SI car assistance art. 5(1))")
            return []
        reasons.append("on_site_help: call-out in full and up to 1 hour of work; no "
                       "material or parts (SI car assistance art. 5)")
        return [Grant(service, ON_SITE_LABOUR_H, "hours", "SI car assistance art. 5(2)")]
    if service == "key_help":
        if incident.cause != "lost_keys":
            reasons.append("key_help: only for lost, stolen, damaged or locked-in keys "
                           "(SI car assistance art. 6(1))")
            return []
        if incident.key_fix_failed:
            reasons.append("key_help: failed on the spot, only tow or transport remains "
                           "(SI car assistance art. 6(4))")
            return []
        reasons.append("key_help: call-out in full and up to 1 hour of work; no key or lock "
                       "replacement (SI car assistance art. 6(2),(5))")
        return [Grant(service, ON_SITE_LABOUR_H, "hours", "SI car assistance art. 6(2)")]
    if service == "spare_key_delivery":
        within = incident.spare_keys_collectable_within_h
        if incident.cause != "lost_keys" or within is None or within > SPARE_KEYS_WITHIN_H:
            reasons.append("spare_key_delivery: only when the keys can be taken within "
                           "24 h of reporting (SI car assistance art. 6(3))")
            return []
        return [Grant(service, None, "in_full", "SI car assistance art. 6(3)")]
    if service == "wrong_fuel_remedy":
        if incident.cause != "wrong_fuel":
            reasons.append("wrong_fuel_remedy: only after wrong fuel (SI car assistance art. 7(1))")
            return []
        reasons.append("wrong_fuel_remedy: tank and lines drained and cleaned, filter labour; "
                       "the filter and engine damage not covered (SI car assistance art. 7(3),(4))")
        return [Grant(service, None, "in_full", "SI car assistance art. 7(3)")]
    if service == "recovery":
        if not incident.needs_recovery:
            reasons.append("recovery: only from a ravine, ditch, mud or water "
                           "(SI car assistance art. 8)")
            return []
        return [Grant(service, RECOVERY_MAX_EUR, "EUR", "SI car assistance art. 8(2)")]
    if service == "tow":
        return _tow(policy, incident, reasons)
    if service == "fuel_delivery":
        if incident.cause != "empty_tank":
            reasons.append("fuel_delivery: only when the fuel ran out "
                           "(SI car assistance art. 10(1))")
            return []
        reasons.append("fuel_delivery: enough to reach the nearest filling station; the fuel "
                       "itself not covered (SI car assistance art. 10)")
        return [Grant(service, None, "in_full", "SI car assistance art. 10(2)")]
    if service == "parts_abroad":
        if not abroad:
            reasons.append("parts_abroad: only for a case abroad (SI car assistance art. 11(1))")
            return []
        reasons.append("parts_abroad: delivery paid, purchase price advanced and repaid by "
                       "the insured (SI car assistance art. 11(2))")
        return [Grant(service, None, "in_full", "SI car assistance art. 11(2)")]
    if service == "customs_and_scrapping":
        if not (abroad and incident.vehicle_destroyed):
            reasons.append("customs_and_scrapping: only for a vehicle destroyed abroad "
                           "(SI car assistance art. 12(1))")
            return []
        return [Grant(service, None, "in_full", "SI car assistance art. 12(2)")]
    if service == "passenger_transport":
        return _passenger_transport(policy, incident, reasons)
    # storage (art. 14) and information (art. 15) come with every assistance case
    return [Grant(service, None, "in_full", "SI car assistance art. 14" if service == "storage"
                  else "SI car assistance art. 15")]


def _tow(policy: Policy, incident: Incident, reasons: list[str]) -> list[Grant]:
    if incident.cause == "ev_out_of_charge":
        if policy.ev_tows_used_in_period >= EV_TOWS_PER_PERIOD:
            reasons.append(f"tow: EV out of charge, {policy.ev_tows_used_in_period} of "
                           f"{EV_TOWS_PER_PERIOD} cases per period used "
                           "(SI car assistance art. 9(2))")
            return []
        reasons.append(f"tow: EV out of charge, case {policy.ev_tows_used_in_period + 1} of "
                       f"{EV_TOWS_PER_PERIOD} per period; charging not covered "
                       "(SI car assistance art. 9(2))")
    elif incident.cause == "wrong_fuel":
        reasons.append("tow: wrong fuel, to the nearest authorised service "
                       "(SI car assistance art. 7(2))")
    elif incident.repairable_on_site and not incident.key_fix_failed:
        reasons.append("tow: only when not repairable on the spot or the key fix failed "
                       "(SI car assistance art. 9(1))")
        return []
    reasons.append(f"tow: to the nearest authorised service or charging station, max "
                   f"{TOW_MAX_EUR} EUR per case, no second tow (SI car assistance art. 9(3),(4))")
    return [Grant("tow", TOW_MAX_EUR, "EUR", "SI car assistance art. 9(4)")]


def _passenger_transport(policy: Policy, incident: Incident,
                         reasons: list[str]) -> list[Grant]:
    if policy.professional_use:
        reasons.append("passenger_transport: vehicle in professional transport use "
                       "(SI car assistance art. 17(1)8)")
        return []
    if incident.repairable_on_site and not incident.vehicle_disappeared:
        reasons.append("passenger_transport: only when not repairable on the spot or the "
                       "vehicle disappeared (SI car assistance art. 13(1))")
        return []
    return [Grant("passenger_transport", TRANSPORT_MAX_EUR, "EUR", "SI car assistance art. 13(6)")]
