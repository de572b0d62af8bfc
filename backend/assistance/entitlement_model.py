"""The values an assistance entitlement decision reads and returns.

Two programmes are decided: MINI Road Assist 24/7 (Belgium/Luxembourg,
docs/requirements.md#road-assist) and the Slovenian MINI car-assistance insurance of
Zavarovalnica Triglav (PG-aas-mini/23-12, docs/requirements.md#si-assistance). ``Policy``
holds what the contract says, ``Incident`` what the desk knows about the event, and
``EntitlementDecision`` the outcome with a reason, citing its rule, for every step that
shaped it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from protocols.assistance import AssistanceKind

Programme = Literal["road_assist_24_7", "si_car_assistance"]
Condition = Literal["new", "used"]
# SI car assistance art. 2: the vehicles the Slovenian insurance may be taken out for.
VehicleCategory = Literal["passenger_car", "truck", "motorhome", "motorcycle", "caravan",
                          "service_vehicle", "light_trailer"]
# What the desk found the event to be; the exclusions of both programmes hang on it.
Cause = Literal[
    "technical_defect", "external_impact", "flat_tyre", "lost_keys", "wrong_fuel",
    "empty_tank", "ev_out_of_charge", "theft", "vandalism", "speed_event",
    "non_approved_parts", "general_service", "offroad_or_competition", "war_or_riots",
    "nuclear_or_natural_disaster", "repeated_problem",
]
Service = Literal[
    # Road Assist 24/7 (RA-R5, RA-R6)
    "on_site_help", "towing", "replacement_car", "collection_or_return", "taxi",
    "train_or_plane", "hotel",
    # SI car assistance (Slovenia), art. 4; on_site_help is art. 5
    "key_help", "spare_key_delivery", "wrong_fuel_remedy", "recovery", "tow",
    "fuel_delivery", "parts_abroad", "customs_and_scrapping", "passenger_transport",
    "storage", "information",
]
Unit = Literal["EUR", "working_days", "nights", "hours", "in_full", "no_extra_cost",
               "at_customer_cost"]

ROAD_ASSIST_SERVICES: Final[tuple[Service, ...]] = (
    "on_site_help", "towing", "replacement_car", "collection_or_return", "taxi",
    "train_or_plane", "hotel",
)
SI_SERVICES: Final[tuple[Service, ...]] = (
    "on_site_help", "key_help", "spare_key_delivery", "wrong_fuel_remedy", "recovery",
    "tow", "fuel_delivery", "parts_abroad", "customs_and_scrapping", "passenger_transport",
    "storage", "information",
)

# Road Assist 24/7 (RA-R2) "Geldig in heel Europa" and SI car assistance art. 16
# "geografskem območju Evrope". Neither document lists the countries (Road Assist 24/7's map
# is not in the text), so this is geographic Europe by ISO 3166 code, with the
# transcontinental RU and TR counted in.
EUROPE: Final = frozenset({
    "AD", "AL", "AT", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES",
    "FI", "FO", "FR", "GB", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "LI", "LT",
    "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU",
    "SE", "SI", "SK", "SM", "TR", "UA", "VA", "XK",
})


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """One customer's assistance contract; fields of the other programme are ignored.

    Road Assist (Road Assist 24/7): ``pickup_date``, ``new_or_used``,
    ``vehicle_age_years_at_pickup``, ``maintenance_by_authorised_partner``.
    Slovenia (SI car assistance): the insurance period, the art. 19 refusal of the extension,
    the art. 20 change of owner, the art. 1 MTPL condition, the art. 2 vehicle, the
    art. 17(1)8 professional use and the EV tows already used in the period (art. 9(2)).
    """

    programme: Programme
    home_country: str
    home_lat: float
    home_lon: float
    pickup_date: date | None = None
    new_or_used: Condition = "new"
    vehicle_age_years_at_pickup: float = 0.0
    maintenance_by_authorised_partner: bool = True
    policy_number: str = ""
    period_start: date | None = None
    period_end: date | None = None
    extension_refused_on: date | None = None
    owner_changed_on: date | None = None
    with_triglav_mtpl: bool = True
    vehicle_category: VehicleCategory = "passenger_car"
    max_mass_t: float | None = None
    motor_kw: float | None = None
    coupled_to_eligible_vehicle: bool = False
    professional_use: bool = False
    ev_tows_used_in_period: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """The event as the desk assessed it.

    ``repair_working_days`` is the workshop's estimate from arrival (0: fixed the same
    day). ``drivable``/``safe_to_drive`` decide whether it is a breakdown or an
    accident at all (Road Assist 24/7, RA-R4, SI car assistance "asistenčni primer").
    """

    kind: AssistanceKind
    lat: float
    lon: float
    country: str
    on: date
    cause: Cause = "technical_defect"
    repair_working_days: int = 0
    drivable: bool = False
    safe_to_drive: bool = True
    repairable_on_site: bool = False
    reported_to_centre: bool = True
    organised_without_permission: bool = False
    run_flat_tyres: bool = False
    tyres_available_within_h: float | None = None
    needs_recovery: bool = False
    key_fix_failed: bool = False
    spare_keys_collectable_within_h: float | None = None
    vehicle_destroyed: bool = False
    vehicle_disappeared: bool = False

    def __post_init__(self) -> None:
        if self.repair_working_days < 0:
            raise ValueError(f"repair_working_days {self.repair_working_days} must be >= 0")


@dataclass(frozen=True, slots=True)
class Grant:
    """One service granted with its limit; ``limit`` None means no amount applies."""

    service: Service
    limit: float | None
    unit: Unit
    rule: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EntitlementDecision:
    """Whether the programme covers the incident, what it grants, and why.

    ``valid`` is the cover as a whole; ``refused`` names the requested services that
    are not granted, each with its reason in ``reasons``.
    """

    programme: Programme
    valid: bool
    reasons: tuple[str, ...]
    granted: tuple[Grant, ...]
    refused: tuple[Service, ...] = ()

    def grant(self, service: Service) -> Grant | None:
        return next((g for g in self.granted if g.service == service), None)


def invalid(programme: Programme, reasons: list[str],
            requested: tuple[Service, ...]) -> EntitlementDecision:
    """No cover: nothing granted, every requested service refused."""
    return EntitlementDecision(programme=programme, valid=False, reasons=tuple(reasons),
                               granted=(), refused=requested)


def covered(programme: Programme, requested: tuple[Service, ...], reasons: list[str],
            grants_for: Callable[[Service], Iterable[Grant]]) -> EntitlementDecision:
    """Cover: each requested service in turn is granted (one grant or more) or, when its
    rule grants nothing, refused; ``grants_for`` adds its reasons to ``reasons``."""
    granted: list[Grant] = []
    refused: list[Service] = []
    for service in requested:
        grants = list(grants_for(service))
        if grants:
            granted.extend(grants)
        else:
            refused.append(service)
    return EntitlementDecision(programme=programme, valid=True, reasons=tuple(reasons),
                               granted=tuple(granted), refused=tuple(refused))
