"""The service catalogue as data: every row of seed 001's table, typed and versioned.

Seed 001 states per service how long its data may live, what starts the clock, how much
data it may move and who receives it. The digest's machine-readable table
(``service_catalogue.md`` §E, copied verbatim to ``tests/files/service_catalogue_table.md``)
has one row per service or sub-function; ``CATALOGUE`` holds one ``CatalogueEntry`` per
row, in the table's order, with ``service`` and ``sub_function`` spelled exactly as in the
table so that the tests can match the two. Every retention and volume number was checked
against the Dutch seed text; ``source`` gives the seed lines. The backend tags each record
with its entry's ``key`` and ``CATALOGUE_VERSION``, so a record always says which rule it
was stored under; the version goes up whenever a row's key, rule, budget or recipients
change.

How the documents' words are read, once for all rows:

* Units: 1 KB = 1,000 B, 1 MB = 10**6 B, 1 GB = 10**9 B (the digest's convention; the
  seed does not say).
* Months and years: a month of a retention window is ``MONTH`` (30 days) and a year 365
  days (``PERIOD_SECONDS["year"]``). The seed's periods are all "at the latest" or "kept
  for" bounds; 6 x 30 = 180 and 12 x 30 = 360 days are never longer than the calendar
  reading, so a record is never kept beyond what the documents allow, and the rules do
  not depend on calendars or time zones.
* ``fixed_window`` / ``inactivity_window``: the row states a period.
* ``until_closed``: "kept until all procedures are completed", and rows whose data ends
  at another named event the backend itself sees (end of a charging session, a
  successful download to the app, the end of an analysis, of the contract or of the
  service); ``trigger`` names the event.
* ``vehicle_lifetime``: "until the end of the vehicle's life".
* ``not_stated``: the documents give no period. That covers the rows that only say
  "automatically deleted" (no period is invented: a purge schedule would need a number
  the documents do not give) and the rows whose only end is the customer's own deletion
  (account, MINI ID, app or in-car menu). Such a record is kept until erased, so every
  ``not_stated`` entry is ``erasable_on_request``: the Data Act annex lets any VIN- or
  MINI-ID-related data be erased through MINI customer service (seed 001 lines
  3958-3959).
* ``never_stored``: only Legal eCall and PSAP eCall, whose data path is fixed by law
  (vehicle to the 112 PSAP, or voice only). Their budgets still bound what the car
  sends. Drive Recorder, Interior Camera Function and Smartphone Integration also put
  nothing in the backend, but because their data never reaches it, not because a write
  would break the eCall rules; their ``ambiguity`` says so.
* ``erasable_on_request`` is also set where a row lets the customer delete the backend
  data earlier ("of op verzoek eerder", deletion in the app, account deletion).
* Budgets: "< X" is ``exclusive``; "~", "about", "avg" is ``approx`` (reported, never
  rejected). "Per use", "per request", "per session" and "per drive" are read as one
  message, because the backend meters messages and periods, not sessions; a bound on a
  session is never smaller than the bound on one of its messages. Rows that give a size
  and "N times a year" also get the derived yearly budget N x size, approximate. Rows
  whose volume is "not stated", "n/a" or not a number have no budget.
* ``third_parties``: the table's recipients split on ";"; entries that name nobody
  ("none", "none stated", "none (...)", "not stated", "not described") are left out.
* ``safety``: Intelligent eCall, Legal eCall and the High Voltage Warn Call. A safety
  call is never dropped for its budget, only flagged.
"""

from __future__ import annotations

import re
from typing import Final

from protocols.catalogue_model import (
    DAY,
    MONTH,
    PERIOD_SECONDS,
    BudgetPer,
    CatalogueEntry,
    CatalogueError,
    RetentionRule,
    VolumeBudget,
)

CATALOGUE_VERSION: Final = "1"
HOUR: Final = 3_600.0
YEAR: Final = PERIOD_SECONDS["year"]
KB: Final = 1_000
MB: Final = 1_000_000
GB: Final = 1_000_000_000
KEY_PATTERN: Final = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def _fixed(window_s: float, trigger: str, *, erasable: bool = False) -> RetentionRule:
    return RetentionRule(kind="fixed_window", trigger=trigger, window_s=window_s,
                         erasable_on_request=erasable)


def _closed(trigger: str, *, erasable: bool = False) -> RetentionRule:
    return RetentionRule(kind="until_closed", trigger=trigger, erasable_on_request=erasable)


def _unstated(trigger: str) -> RetentionRule:
    return RetentionRule(kind="not_stated", trigger=trigger, erasable_on_request=True)


def _lifetime(trigger: str) -> RetentionRule:
    return RetentionRule(kind="vehicle_lifetime", trigger=trigger)


def _never(trigger: str) -> RetentionRule:
    return RetentionRule(kind="never_stored", trigger=trigger)


def _message(limit: int, wording: str, *, exclusive: bool = False,
             approx: bool = False) -> VolumeBudget:
    """A bound on one message (the documents' "per use", "per request", ...)."""
    return VolumeBudget(per="message", per_message_bytes=limit, exclusive=exclusive,
                        approx=approx, wording=wording)


def _period(per: BudgetPer, limit: int, wording: str, *, exclusive: bool = False,
            approx: bool = False, per_message: int | None = None) -> VolumeBudget:
    """A bound on the sum over ``per``, optionally with a bound on each message."""
    return VolumeBudget(per=per, period_bytes=limit, per_message_bytes=per_message,
                        exclusive=exclusive, approx=approx, wording=wording)


_NO_PERIOD: Final = (
    "The seed says the data is deleted automatically but gives no period. No period is "
    "invented: the entry is not_stated, kept until erased on request."
)
_BACKEND_NOTHING: Final = (
    "The seed says the backend stores nothing for this service; the data stays in the "
    "vehicle (and the app or phone). not_stated describes the in-vehicle rule (kept until "
    "the user deletes it or resets the car); a record of it arriving at the backend is "
    "unexpected. It is not never_stored, which is kept for the two eCall variants whose "
    "data path is fixed by law."
)
_NOT_DESCRIBED: Final = (
    "Only named in seed 001, never described: no data, retention or volume is given. "
    "Nothing may be assumed; the entry exists so that records can be tagged and flagged."
)
_NAVIGATION: Final = (
    "The 500 MB per month is stated once for MINI Navigation as a whole (seed 001 line "
    "2682), not per sub-function. Each navigation entry carries it, approximate, so it is "
    "only ever reported against, never enforced; summed over the sub-functions a vehicle "
    "may report more than the real navigation total."
)
_PER_SCHIJF: Final = (
    "'gemiddeld ... per schijf' ('per disk') is almost certainly a mistranslation of 'per "
    "drive' (per trip). Read as the average size of the one upload made per drive, so a "
    "per-message approximate budget: reported, never enforced."
)
_TELESERVICE_FAMILY: Final = "need determined and communicated, and all procedures completed"

CATALOGUE: Final[tuple[CatalogueEntry, ...]] = (
    CatalogueEntry(
        key="airconsole_games", service="AirConsole Games", sub_function="AirConsole Games",
        retention=_unstated("data processed (anonymised statistics)"),
        budget=_period("hour", 500 * MB, "~500 MB per hour of play (approx.)", approx=True),
        third_parties=("content providers (not stored permanently)",),
        source="§1; seed 001 lines 1382-1398",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="customer_hotline", service="Call Services", sub_function="Customer Hotline",
        retention=_fixed(28 * DAY, "data processed (call or request)", erasable=True),
        budget=_message(25 * KB, "< 25 KB per use or per engine switch-off", exclusive=True),
        third_parties=(),
        source="§2a; seed 001 lines 1448-1452, 1474, 1481-1482",
    ),
    CatalogueEntry(
        key="hv_warn_call", service="Call Services", sub_function="High Voltage Warn Call",
        retention=_fixed(6 * MONTH, "reported incident"),
        budget=_message(25 * KB, "< 25 KB per use or per engine switch-off (shared sentence "
                        "with Customer Hotline)", exclusive=True),
        third_parties=("external service provider (BMW Call Center staff) → nearest local "
                       "PSAP → emergency services",),
        source="§2b; seed 001 lines 1421-1427, 1454-1457, 1466-1470, 1475-1477, 1481-1482",
        ambiguity=(
            "The volume sentence is shared with the Customer Hotline: < 25 KB 'each time the "
            "service is used or when the engine is switched off' (seed 001 lines 1481-1482). "
            "Engine-off is odd for a thermal event in a parked or charging car; read as a "
            "bound on each warn-call message, whatever starts it. As a safety call it is "
            "never dropped for this budget, only flagged."
        ),
        safety=True,
    ),
    CatalogueEntry(
        key="autonomous_driving_call", service="Call Services",
        sub_function="Autonomous Driving Call",
        retention=_unstated("not stated"),
        budget=None, third_parties=(),
        source="§2; seed 001 lines 1410-1412",
        ambiguity=_NOT_DESCRIBED,
    ),
    CatalogueEntry(
        key="charge_management", service="Connected E-Mobility",
        sub_function="Charge Management",
        retention=_unstated("customer-account deletion, or charging history switched off"),
        budget=_period("day", 50 * KB, "< 50 KB per day", exclusive=True),
        third_parties=(),
        source="§3a; seed 001 lines 1569-1571, 1580, 1589-1591, 1611-1613",
    ),
    CatalogueEntry(
        key="remote_charge_management", service="Connected E-Mobility",
        sub_function="Remote Charge Management",
        retention=_closed("end of the charging session"),
        budget=None,
        third_parties=("customer-designated external charging provider (API)",),
        source="§3b; seed 001 lines 1504-1508, 1572-1574, 1592",
    ),
    CatalogueEntry(
        key="edrive_services", service="Connected E-Mobility", sub_function="eDrive Services",
        retention=_closed("end of the MINI Connected contract", erasable=True),
        budget=None,
        third_parties=("service providers (range map)",
                       "anonymised data to eMobility Community"),
        source="§3c; seed 001 lines 1575-1577, 1581-1585, 1593-1596",
        ambiguity=(
            "The range map is kept 'voor één levenscyclus' (one life cycle, seed 001 line "
            "1593), which is not defined (vehicle, battery or contract). Chosen: until the "
            "MINI Connected contract ends, the only end the same paragraph names for the "
            "data (lines 1595-1596); the customer may delete it in the app at any time. A "
            "vehicle-life reading would outlast the contract, which that sentence rules out."
        ),
    ),
    CatalogueEntry(
        key="edrive_zone", service="Connected E-Mobility", sub_function="eDrive Zone",
        retention=_unstated("not stated"),
        budget=_period("day", 2 * KB, "~2 KB per day (approx.)", approx=True),
        third_parties=(),
        source="§3d; seed 001 lines 1608-1610",
        ambiguity="A BMW index item with only a volume figure; no retention is stated.",
    ),
    CatalogueEntry(
        key="parking_ospi", service="Connected Parking",
        sub_function="On-Street Parking Information (OSPI)",
        retention=_unstated("not stated"),
        budget=_message(40 * KB, "< 40 KB per parking-info update", exclusive=True),
        third_parties=("external parking-info provider",),
        source="§4; seed 001 lines 1682-1684, 1696-1698, 1730-1732",
    ),
    CatalogueEntry(
        key="parking_at_destination", service="Connected Parking",
        sub_function="Parking Situation at Destination",
        retention=_unstated("after processing"),
        budget=_message(1 * KB, "< 1 KB per use", exclusive=True),
        third_parties=("external provider",),
        source="§4; seed 001 lines 1685-1688, 1699-1702, 1715-1717, 1734-1736",
        ambiguity=(
            "The seed says the data is not stored in the IT systems but sent to the provider "
            "(lines 1687-1688), and also that it is 'only stored anonymised and deleted' "
            "(lines 1715-1717), with no period. Read as: nothing personal is kept; any "
            "anonymised remainder is not_stated, kept until erased on request."
        ),
    ),
    CatalogueEntry(
        key="parking_space_assistant", service="Connected Parking",
        sub_function="Parking Space Assistant (Parking Suggestions)",
        retention=_unstated("after use"),
        budget=_message(40 * KB, "< 40 KB per use", exclusive=True),
        third_parties=("search/route provider (anonymised)",
                       "speech-service provider (route data, voice bytes)"),
        source="§4; seed 001 lines 1690-1691, 1704-1706, 1718-1720, 1738-1740",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="parking_payments", service="Connected Parking", sub_function="Parking Payments",
        retention=_unstated("deletion of the user's MINI ID"),
        budget=_message(40 * KB, "< 40 KB per use or per engine switch-off", exclusive=True),
        third_parties=("parking-payment provider (name, e-mail, payment data, position)",),
        source="§4; seed 001 lines 1693, 1708-1711, 1721-1725, 1742-1744",
        ambiguity=(
            "Account data lives until the user's MINI ID is deleted; debug data is "
            "'automatically deleted' with no period (line 1725). Both are not_stated."
        ),
    ),
    CatalogueEntry(
        key="personal_esim", service="Connectivity", sub_function="Personal eSIM",
        retention=_closed("service deactivation"),
        budget=None,
        third_parties=("customer's mobile network operator",),
        source="§5; seed 001 lines 1799-1803, 1810-1818",
        ambiguity=(
            "The volume 'depends entirely on individual usage' (lines 1817-1818): no number, "
            "so no budget."
        ),
    ),
    CatalogueEntry(
        key="digital_key", service="Digital Key", sub_function="Digital Key / Digital Key Plus",
        retention=_lifetime("end of the vehicle's life"),
        budget=_period("vehicle", 5 * MB, "up to 5 MB per vehicle (full use)"),
        third_parties=("Apple/Google/Samsung Wallet",
                       "authorities on theft (if legally required)"),
        source="§6; seed 001 lines 1873, 1889-1896, 1899-1904, 1906-1908",
        ambiguity=(
            "Keys can be deleted, and all keys are deleted on a personal-data erasure "
            "request, yet 'after deletion' the key information is kept permanently in a "
            "secured backend until the end of the vehicle's life (lines 1900-1904). The "
            "backend record follows the second sentence: vehicle_lifetime, not erasable on "
            "request; erasing a key revokes it but keeps its record. The 5 MB is a total per "
            "vehicle at full use, so a period budget over the vehicle, not per message."
        ),
    ),
    CatalogueEntry(
        key="ecall_intelligent", service="Emergency Call", sub_function="Intelligent eCall",
        retention=_closed("all procedures completed"),
        budget=_message(1 * KB, "< 1 KB per eCall, sent before the call and each time the "
                        "operator requests an update", exclusive=True),
        third_parties=("BMW call centre (service providers commissioned by BMW)",
                       "anonymised location/warnings to external traffic providers"),
        source="§7a; seed 001 lines 1930-1935, 1990-1995, 2000-2004, 2010-2013, 2021-2025",
        ambiguity=(
            "Seed 001 gives three backend retention statements for Intelligent eCall: data "
            "kept 'until all procedures are completed' (lines 2010-2012), extended technical "
            "information stored 30 days (1992-1993) and voice recordings kept up to 24 hours "
            "(1993-1995); in-vehicle data is overwritten at the next start (2012-2013). Read "
            "as three data sets, one entry each: this entry is the case data (until_closed), "
            "ecall_intelligent_extended the 30-day technical record and "
            "ecall_intelligent_voice the 24-hour recordings. The 30-day sentence names its "
            "own data and purpose (customer service), so it neither shortens nor extends the "
            "case. The in-vehicle overwrite is the car's rule, not the backend's."
        ),
        safety=True,
    ),
    CatalogueEntry(
        key="ecall_intelligent_voice", service="Emergency Call",
        sub_function="Intelligent eCall – voice recording",
        retention=_fixed(24 * HOUR, "the call"),
        budget=None,
        third_parties=("rescue chain (on immediate questions)",),
        source="§7a; seed 001 lines 1993-1995",
        ambiguity=(
            "'kan spraakopnames tot 24 uur bewaren' is an upper bound from the call; see "
            "ecall_intelligent for how the three Intelligent eCall rules are split. A voice "
            "recording has no byte budget in the documents."
        ),
    ),
    CatalogueEntry(
        key="ecall_intelligent_extended", service="Emergency Call",
        sub_function="Intelligent eCall – extended technical info",
        retention=_fixed(30 * DAY, "eCall event"),
        budget=None, third_parties=(),
        source="§7a; seed 001 lines 1990-1993",
        ambiguity=(
            "Kept 30 days from the eCall event, independent of the case's closure: the seed "
            "ties the 30 days to availability for customer service (line 1993), not to the "
            "procedure. See ecall_intelligent."
        ),
    ),
    CatalogueEntry(
        key="ecall_legal", service="Emergency Call",
        sub_function="Legal eCall (EU eCall, EN15722 / Reg. 2015/758)",
        retention=_never("n/a (processed PSAP-side under the PSAP regulation)"),
        budget=_message(1 * KB, "< 1 KB per eCall, sent before the call and each time the "
                        "operator requests an update", exclusive=True),
        third_parties=("112 PSAP, directly from vehicle",),
        source="§7b; seed 001 lines 1937-1950, 1997, 2006, 2015-2016, 2027-2031",
        safety=True,
    ),
    CatalogueEntry(
        key="ecall_psap", service="Emergency Call", sub_function="PSAP eCall",
        retention=_never("n/a (voice only, no data)"),
        budget=_message(0, "no data generated or sent (voice only)"),
        third_parties=(),
        source="§7c; seed 001 lines 1952-1953, 1987, 1997, 2007, 2033",
    ),
    CatalogueEntry(
        key="assistance_call_after_emergency_stop", service="Emergency Call",
        sub_function="Assistance Call after Emergency Stop (BMW only)",
        retention=_unstated("not described"),
        budget=None, third_parties=(),
        source="§7d; seed 001 lines 1278",
        ambiguity=_NOT_DESCRIBED + " The index marks it BMW only, not MINI.",
    ),
    CatalogueEntry(
        key="remote_3d_view", service="Exterior Camera", sub_function="Remote 3D View",
        retention=_closed("successful download to the MINI App"),
        budget=_message(3 * MB, "~3 MB per request (approx.)", approx=True),
        third_parties=(),
        source="§8; seed 001 lines 2136-2139, 2153-2157, 2178-2182",
    ),
    CatalogueEntry(
        key="anti_theft_recorder_exterior", service="Exterior Camera",
        sub_function="Anti-Theft Recorder (exterior)",
        retention=_unstated("user deletion / factory reset"),
        budget=_message(150 * MB, "max 150 MB per alarm video transfer"),
        third_parties=(),
        source="§8; seed 001 lines 2142-2145, 2170-2173, 2184-2188",
        ambiguity=(
            "The video goes to the app on alarm; the seed states no backend copy or period, "
            "only deletion in the app, the in-car menu or by factory reset (lines 2170-2173)."
        ),
    ),
    CatalogueEntry(
        key="drive_recorder", service="Exterior Camera", sub_function="Drive Recorder",
        retention=_unstated("user deletion / factory reset"),
        budget=_message(800 * MB, "up to 800 MB per recording (same on export)"),
        third_parties=(),
        source="§8; seed 001 lines 2141, 2165-2168, 2190-2194",
        ambiguity=_BACKEND_NOTHING,
    ),
    CatalogueEntry(
        key="voice_interaction", service="Intelligent Personal Assistant",
        sub_function="Voice Interaction",
        retention=_unstated("not stated"),
        budget=_message(25 * KB, "< 25 KB per voice interaction", exclusive=True),
        third_parties=("speech-technology provider (audio, location, contacts)",
                       "Amazon (Alexa domains)",
                       "pseudonymised logs possibly outside the EU"),
        source="§9a; seed 001 lines 2285-2288, 2301-2318, 2327-2329, 2352",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="intelligent_functions", service="Intelligent Personal Assistant",
        sub_function="Intelligent Functions",
        retention=_fixed(5 * YEAR, "date of collection", erasable=True),
        budget=_message(2 * MB, "~2 MB per use (engine on → engine off)", approx=True),
        third_parties=(),
        source="§9b; seed 001 lines 2290-2295, 2320, 2331-2335, 2340-2342",
        ambiguity=(
            "Two clocks (lines 2331-2334): at most five years from collection, and 30 days "
            "after the data-analysis opt-in is withdrawn unless renewed. The entry carries the "
            "five years; the opt-out is an erasure request served 30 days after the "
            "withdrawal. 'Per use' is one engine-on to engine-off cycle, metered as one "
            "approximate message bound (reported, never enforced)."
        ),
    ),
    CatalogueEntry(
        key="ipa_instruction_videos", service="Intelligent Personal Assistant",
        sub_function="Instruction videos",
        retention=_unstated("not stated"),
        budget=_message(40 * MB, "~40 MB per instruction video", approx=True),
        third_parties=(),
        source="§9; seed 001 lines 2344-2346",
    ),
    CatalogueEntry(
        key="ipa_festive_videos", service="Intelligent Personal Assistant",
        sub_function="Festive videos",
        retention=_unstated("not stated"),
        budget=_period("year", 4 * 30 * MB, "~30 MB per festive video, ~4 times a year on "
                       "average", approx=True, per_message=30 * MB),
        third_parties=(),
        source="§9; seed 001 lines 2348-2350",
        ambiguity=(
            "About 30 MB per video, on average four times a year (lines 2348-2350); the "
            "yearly 120 MB is derived (4 x 30 MB) and approximate like its parts."
        ),
    ),
    CatalogueEntry(
        key="anti_theft_recorder_interior", service="Interior Camera",
        sub_function="Anti-Theft Recorder (Interior)",
        retention=_closed("successful download to the MINI App"),
        budget=_message(30 * MB, "max 30 MB per alarm recording transfer"),
        third_parties=(),
        source="§11; seed 001 lines 2425-2428, 2436-2440, 2446-2449",
        ambiguity=(
            "The server copy is kept 'until successfully downloaded to the app or "
            "automatically deleted' (lines 2439-2440); the automatic deletion has no period, "
            "so the entry ends at the download."
        ),
    ),
    CatalogueEntry(
        key="remote_inside_view", service="Interior Camera", sub_function="Remote Inside View",
        retention=_closed("successful download to the MINI App"),
        budget=_message(30 * MB, "max 30 MB per request"),
        third_parties=(),
        source="§11; seed 001 lines 2425-2428, 2436-2440, 2451-2453",
        ambiguity=(
            "As anti_theft_recorder_interior: the server copy ends at the successful download; "
            "the alternative 'automatically deleted' has no period."
        ),
    ),
    CatalogueEntry(
        key="interior_camera_function", service="Interior Camera",
        sub_function="Interior Camera Function",
        retention=_unstated("user deletion / factory reset"),
        budget=_message(120 * MB, "max 120 MB generated per photo/video"),
        third_parties=(),
        source="§11; seed 001 lines 2420-2421, 2430, 2442-2443, 2455-2457",
        ambiguity=_BACKEND_NOTHING,
    ),
    CatalogueEntry(
        key="connected_package", service="MINI Connected Package", sub_function="package",
        retention=_unstated("not stated"),
        budget=None, third_parties=(),
        source="§10; seed 001 lines 2463-2501",
        ambiguity=(
            "The package section has no data, retention or volume part; the services it "
            "enables carry their own rules."
        ),
    ),
    CatalogueEntry(
        key="learning_navigation", service="Navigation",
        sub_function="Learning/Proactive Navigation",
        retention=RetentionRule(kind="inactivity_window", trigger="data recording",
                                window_s=12 * MONTH, idle_s=3 * MONTH),
        budget=_period("month", 500 * MB, "avg 500 MB per month for Navigation overall",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="§12; seed 001 lines 2635-2637, 2660-2663, 2666-2669, 2682-2684",
        ambiguity=_NAVIGATION,
    ),
    CatalogueEntry(
        key="map_update", service="Navigation", sub_function="Map Update (OTA/USB/USB portal)",
        retention=_fixed(30 * DAY, "data processed (update)"),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="§12; seed 001 lines 2638-2639, 2671-2672, 2682-2684",
        ambiguity=_NAVIGATION,
    ),
    CatalogueEntry(
        key="destination_input", service="Navigation", sub_function="Destination Input",
        retention=_fixed(12 * MONTH, "search/destination entry", erasable=True),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="§12; seed 001 lines 2640-2644, 2677-2678, 2682-2684",
        ambiguity=_NAVIGATION,
    ),
    CatalogueEntry(
        key="routing", service="Navigation", sub_function="Routing",
        retention=_unstated("not stated"),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="§12; seed 001 lines 2646-2647, 2674-2675, 2682-2684",
        ambiguity=_NO_PERIOD + " " + _NAVIGATION,
    ),
    CatalogueEntry(
        key="rtti", service="Navigation", sub_function="RTTI (incl. Hazard Preview)",
        retention=_unstated("not stated"),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="§12; seed 001 lines 2649-2656, 2674-2675, 2682-2684",
        ambiguity=_NO_PERIOD + " " + _NAVIGATION,
    ),
    CatalogueEntry(
        key="personalization", service="Personalization", sub_function="Personalization",
        retention=_unstated("account removal / customer request"),
        budget=_period("month", 15 * MB, "up to 15 MB per vehicle per month"),
        third_parties=(),
        source="§13; seed 001 lines 2774-2775, 2781-2784, 2787-2791",
    ),
    CatalogueEntry(
        key="remote_services_commands", service="Remote Control",
        sub_function="Remote Services – command history",
        retention=_fixed(30 * DAY, "command executed"),
        budget=_message(25 * KB, "< 25 KB per remote function executed", exclusive=True),
        third_parties=(),
        source="§14; seed 001 lines 2853-2856, 2869, 2874-2876",
    ),
    CatalogueEntry(
        key="remote_services_status", service="Remote Control",
        sub_function="Remote Services – vehicle status",
        retention=_fixed(6 * MONTH, "status data received"),
        budget=_message(1 * KB, "< 1 KB per status update", exclusive=True),
        third_parties=(),
        source="§14; seed 001 lines 2853-2856, 2869-2870, 2878",
    ),
    CatalogueEntry(
        key="rsu", service="Remote Software Upgrade", sub_function="RSU download/install",
        retention=_lifetime("end of the vehicle's life"),
        budget=_message(10 * GB, "1–10 GB per download before installation (via app, Wi-Fi "
                        "or SIM); size shown in update info"),
        third_parties=("if aborted RSU → Roadside Assistance Call: vehicle, location, "
                       "movement data to third-party assistance provider",),
        source="§15; seed 001 lines 2940-2947, 2951-2955, 2960-2965, 2968-2970",
        ambiguity=(
            "Maintenance information is kept in the vehicle's maintenance documentation for "
            "the vehicle's life (lines 2960-2963); 'vehicle data and upgrade data are also "
            "deleted automatically' with no period (line 2965). The entry carries the "
            "lifetime rule, the only period stated. The budget is the upper end of '1 to 10 "
            "GB per download'; the lower end is a fact about updates, not a bound."
        ),
    ),
    CatalogueEntry(
        key="teleservice_call", service="Repair & Maintenance", sub_function="Teleservice Call",
        retention=_closed(_TELESERVICE_FAMILY),
        budget=_message(50 * KB, "max 50 KB per service/maintenance request, or regularly "
                        "every 28 days or every 1,000 km (description: \"monthly on state "
                        "change\")"),
        third_parties=("preferred service centre", "Customer Interaction Center",
                       "Roadside Assistance"),
        source="§16a; seed 001 lines 3036-3043, 3204-3207, 3223-3225, 3233-3235, 3239-3241",
        ambiguity=(
            "Cadence: the description says data goes to MINI 'monthly, based on a change in "
            "the vehicle's state' (lines 3036-3037); the volume part says 'every 28 days or "
            "every 1,000 km' (3241). Chosen: every 28 days or 1,000 km, whichever comes "
            "first, plus a transfer on each service or maintenance request; 28 days is the "
            "precise form of 'monthly'. The 50 KB 'maximaal' bounds each transfer. Recipients: "
            "the seed's third-party part names only the preferred service centre (3223-3225); "
            "the Customer Interaction Center and Roadside Assistance are MINI's own desks "
            "that the description routes needs to (3016-3020), kept as recipients."
        ),
    ),
    CatalogueEntry(
        key="workshop_map", service="Repair & Maintenance",
        sub_function="Workshop map-data update",
        retention=_unstated("not stated"),
        budget=_period("year", 6 * 200 * KB, "~200 KB, ~6 times a year or as needed",
                       approx=True, per_message=200 * KB),
        third_parties=(),
        source="§16a; seed 001 lines 3022-3023, 3185-3186, 3243-3245",
        ambiguity=(
            "'ongeveer zes keer per jaar of naar behoefte ... zo'n 200 KB' (lines 3243-3245): "
            "both figures are approximate and 'as needed' may add updates, so the yearly "
            "1.2 MB (6 x 200 KB) is derived and only reported. No retention is stated; the "
            "map data is the car's."
        ),
    ),
    CatalogueEntry(
        key="smart_maintenance", service="Repair & Maintenance",
        sub_function="Smart Maintenance (opt-in, OS 7+)",
        retention=_closed(_TELESERVICE_FAMILY),
        budget=_message(50 * KB, "max 50 KB per request or every 28 days / 1,000 km; "
                        "description: after every trip or once a week"),
        third_parties=("preferred service centre",),
        source="§16b; seed 001 lines 3046-3050, 3204-3207, 3223-3225, 3233-3235, 3239-3241",
        ambiguity=(
            "The volume sentence is shared with Teleservice Call ('maximaal 50 KB ... or "
            "every 28 days or every 1,000 km', lines 3239-3241) while the description says "
            "data goes 'after every trip or once a week' (3046-3047). Chosen: the 50 KB bounds "
            "each transfer; with the opt-in on, transfers follow the trip/weekly cadence, the "
            "28-day/1,000-km rhythm being Teleservice's own."
        ),
    ),
    CatalogueEntry(
        key="remote_key_read", service="Repair & Maintenance", sub_function="Remote KeyRead",
        retention=_unstated("not stated"),
        budget=_message(20 * KB, "up to 20 KB per service-related event (e.g. appointment "
                        "prep)"),
        third_parties=("service partner",),
        source="§16c; seed 001 lines 3053-3057, 3246-3248",
    ),
    CatalogueEntry(
        key="service_partner_management", service="Repair & Maintenance",
        sub_function="Service Partner Management",
        retention=_unstated("not stated"),
        budget=_message(25 * KB, "~25 KB per search/update of preferred partner", approx=True),
        third_parties=("preferred service centre",),
        source="§16d; seed 001 lines 3060-3064, 3206-3207, 3250-3252",
    ),
    CatalogueEntry(
        key="roadside_assistance", service="Repair & Maintenance",
        sub_function="Roadside Assistance Call",
        retention=_closed(_TELESERVICE_FAMILY),
        budget=_message(50 * KB, "< 50 KB per use or per engine switch-off", exclusive=True),
        third_parties=("MINI Roadside Assistance", "calls may be passed to third parties",
                       "preferred service centre"),
        source="§16e; seed 001 lines 3067-3077, 3204-3207, 3226-3229, 3233-3235, 3253-3255",
    ),
    CatalogueEntry(
        key="accident_assistance", service="Repair & Maintenance",
        sub_function="Accident Assistance Call",
        retention=_closed(_TELESERVICE_FAMILY),
        budget=_message(50 * KB, "< 50 KB per use or per engine switch-off", exclusive=True),
        third_parties=("MINI Accident Assistance", "preferred service centre",
                       "on-site help / tow service"),
        source="§16f; seed 001 lines 3080-3090, 3204-3207, 3233-3235, 3253-3255",
    ),
    CatalogueEntry(
        key="electronic_service_history", service="Repair & Maintenance",
        sub_function="Electronic Service History",
        retention=_unstated("not stated"),
        budget=None, third_parties=("workshop (implied)",),
        source="§16g; seed 001 lines 3093-3096",
    ),
    CatalogueEntry(
        key="repair_history", service="Repair & Maintenance", sub_function="Repair History",
        retention=_unstated("not stated"),
        budget=None, third_parties=("workshop (implied)",),
        source="§16h; seed 001 lines 3099-3102",
    ),
    CatalogueEntry(
        key="remote_diagnosis", service="Repair & Maintenance", sub_function="Remote Diagnosis",
        retention=_unstated("not stated"),
        budget=_message(30 * KB, "max 30 KB per diagnosis request (consent per access)"),
        third_parties=("service centre (implied)",),
        source="§16i; seed 001 lines 3105-3108, 3256",
    ),
    CatalogueEntry(
        key="rm_independent_providers", service="Repair & Maintenance",
        sub_function="R&M Services for Independent Providers (EEA)",
        retention=_unstated("not stated"),
        budget=None, third_parties=("independent provider approved via MINI CarData",),
        source="§16j; seed 001 lines 3111-3147, 3209-3215",
    ),
    CatalogueEntry(
        key="smartphone_integration", service="Smartphone Integration",
        sub_function="CarPlay / Android Auto",
        retention=_unstated("n/a (no BMW storage)"),
        budget=None, third_parties=("Apple / Google / phone apps (MINI shares nothing)",),
        source="§17; seed 001 lines 3337-3351",
        ambiguity=_BACKEND_NOTHING,
    ),
    CatalogueEntry(
        key="anti_theft_notification", service="Technical Basis",
        sub_function="Anti-Theft Notification",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "< 1 KB per alarm notification", exclusive=True),
        third_parties=(),
        source="§18; seed 001 lines 3470-3473, 3546-3548",
    ),
    CatalogueEntry(
        key="diagnostic_data_evaluation", service="Technical Basis",
        sub_function="Evaluation of Diagnostic Data",
        retention=_closed("analysis completed or action ended"),
        budget=_message(1 * MB, "up to 1 MB per vehicle trigger (e.g. \"CBD\" messages)"),
        third_parties=(),
        source="§18; seed 001 lines 3475-3478, 3522-3525, 3549-3551",
        ambiguity=(
            "The trigger 'CBD-meldingen' (line 3549) is unexplained, possibly CBS (Condition "
            "Based Service); it does not change the 1 MB bound per trigger."
        ),
    ),
    CatalogueEntry(
        key="xcc", service="Technical Basis", sub_function="Extendable Car Communications (xCC)",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "< 1 KB per communication", exclusive=True),
        third_parties=(),
        source="§18; seed 001 lines 3480, 3527-3528, 3555",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="future_mobility_solutions", service="Technical Basis",
        sub_function="Future Mobility Solutions",
        retention=_unstated("not stated"),
        budget=_period("hour", 50 * KB, "< 50 KB per hour when activated", exclusive=True),
        third_parties=("selected development partners (anonymised, possibly abroad), "
                       "MINI partners",),
        source="§18; seed 001 lines 3481-3484, 3506-3511, 3530, 3552-3554",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="product_quality_improvement", service="Technical Basis",
        sub_function="Improvement of Product Quality",
        retention=_unstated("not stated"),
        budget=_message(100 * KB, "avg 100 KB \"per schijf\" (probably per drive; AMBIGUOUS) "
                        "when activated", approx=True),
        third_parties=("map providers (anonymised)", "development partners (depersonalised)"),
        source="§18; seed 001 lines 3488-3493, 3513-3517, 3531-3534, 3559-3560",
        ambiguity=_PER_SCHIJF + " " + _NO_PERIOD,
    ),
    CatalogueEntry(
        key="service_quality_improvement", service="Technical Basis",
        sub_function="Improvement of Service Quality",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "avg 1 KB \"per schijf\" (probably per drive; AMBIGUOUS) "
                        "when activated", approx=True),
        third_parties=("map providers (anonymised)", "development partners (depersonalised)"),
        source="§18; seed 001 lines 3488-3493, 3513-3517, 3531-3534, 3562-3563",
        ambiguity=_PER_SCHIJF + " " + _NO_PERIOD,
    ),
    CatalogueEntry(
        key="myinfo", service="Technical Basis", sub_function="MyInfo",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "< 1 KB per MyInfo", exclusive=True),
        third_parties=(),
        source="§18; seed 001 lines 3495, 3536-3537, 3565",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="predictive_thermal_management", service="Technical Basis",
        sub_function="Predictive Thermal Management",
        retention=_fixed(6 * MONTH, "status recorded", erasable=True),
        budget=_message(10 * KB, "< 10 KB per active navigation session", exclusive=True),
        third_parties=(),
        source="§18; seed 001 lines 3496-3499, 3519, 3539-3542, 3566-3568",
        ambiguity=(
            "The bound is per active navigation session; metered per message, which a "
            "compliant session never breaks. The data is also deleted when the MINI ID is "
            "removed from the car (lines 3539-3540), hence erasable on request."
        ),
    ),
    CatalogueEntry(
        key="traffic_camera_information", service="Traffic Camera Information",
        sub_function="Traffic Camera Information",
        retention=_unstated("not stated"),
        budget=_period("month", 5 * MB, "max 5 MB per month, constant basis"),
        third_parties=(),
        source="§19; seed 001 lines 3614, 3620-3621, 3624-3626",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="vehicle_apps", service="Vehicle Apps",
        sub_function="Vehicle Apps (Mail, Destinations, Fuel Price, etc.)",
        retention=_unstated("not stated"),
        budget=_message(25 * KB, "< 25 KB per use per app", exclusive=True),
        third_parties=("third parties: anonymised News data",
                       "personalisation actions, web searches, mobility profiles, learned "
                       "destinations"),
        source="§20; seed 001 lines 3698-3704, 3707-3708, 3711",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="video_streaming", service="Video Streaming", sub_function="Video Streaming",
        retention=_unstated("user action ('Browsergegevens wissen', profile deletion, "
                            "factory reset)"),
        budget=_period("year", 2_400 * MB, "avg 2.4 GB per year", approx=True),
        third_parties=("content providers (login redirect)",),
        source="§21; seed 001 lines 3769-3773, 3780-3785, 3788-3790",
    ),
    CatalogueEntry(
        key="data_act_product_data", service="Data Act", sub_function="Product data (backend)",
        retention=_lifetime("per data type; at most the product's lifetime"),
        budget=None, third_parties=("via MINI CarData with holder consent",),
        source="§C.1; seed 001 lines 3804-3811, 3838-3842, 3853-3864",
        ambiguity=(
            "Volume: 'tot 25 GB per uur ... / 4 TB ... gedurende 8 uur' (lines 3805-3806) "
            "disagree (25 GB x 8 h = 200 GB). Both describe traffic between ECUs inside the "
            "car, 'niet bedoeld om te kunnen worden opgehaald' (3810-3811), not data sent to "
            "the backend, so neither becomes a budget. Retention '30 days up to the product's "
            "lifetime' (3841-3842) is a range over data types: the entry carries the outer "
            "bound (vehicle_lifetime); each service entry's own rule wins for its data."
        ),
    ),
    CatalogueEntry(
        key="data_act_related_service_data", service="Data Act",
        sub_function="Related-service data (backend)",
        retention=_fixed(10 * YEAR, "per data type; at most 10 years", erasable=True),
        budget=None, third_parties=("via MINI CarData with holder consent",),
        source="§C.2; seed 001 lines 3921-3925, 3941-3945, 3956-3959",
        ambiguity=(
            "Retention 'van minimaal 7 dagen tot 10 jaar' (lines 3942-3943) is a range over "
            "data types: the entry carries the outer bound, 10 years; each service entry's "
            "own rule wins for its data. Deletion can be requested through customer service "
            "(3958-3959). The volume '1 kByte to several MByte per hour' (3922-3923) has no "
            "upper number, so no budget."
        ),
    ),
)


def _index(entries: tuple[CatalogueEntry, ...]) -> dict[str, CatalogueEntry]:
    """Key -> entry; refuses a malformed or repeated key, so a bad row fails at import."""
    by_key: dict[str, CatalogueEntry] = {}
    for row in entries:
        if not KEY_PATTERN.fullmatch(row.key):
            raise ValueError(f"catalogue key {row.key!r} is not snake_case")
        if row.key in by_key:
            raise ValueError(f"catalogue key {row.key!r} appears twice")
        by_key[row.key] = row
    return by_key


_BY_KEY: Final[dict[str, CatalogueEntry]] = _index(CATALOGUE)


def entry(key: str) -> CatalogueEntry:
    """The row of ``key``; an unknown key is a CatalogueError naming the known ones."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise CatalogueError(f"no catalogue entry {key!r}; known: {sorted(_BY_KEY)}") from None


def keys() -> tuple[str, ...]:
    """Every key, in the table's order."""
    return tuple(_BY_KEY)


def entries_of(service: str) -> tuple[CatalogueEntry, ...]:
    """The rows of one service (the table's ``service`` column), in the table's order."""
    return tuple(row for row in CATALOGUE if row.service == service)


def safety_keys() -> frozenset[str]:
    """The keys of the safety calls, which are flagged but never dropped for a budget."""
    return frozenset(row.key for row in CATALOGUE if row.safety)
