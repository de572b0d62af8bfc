"""The service catalogue as data: every service row of MINI Connected, typed and versioned.

MINI Connected states per service how long its data may live, what starts the clock, how
much data it may move and who receives it (docs/requirements.md#catalogue, one anchor per
row named by its key). The machine-readable table ``tests/files/service_catalogue_table.md``
has one row per service or sub-function; ``CATALOGUE`` holds one ``CatalogueEntry`` per
row, in the table's order, with ``service`` and ``sub_function`` spelled exactly as in the
table so that the tests can match the two. Every retention and volume number was checked
against the Dutch text; ``source`` names the section and the requirement anchor. The
backend tags each record with its entry's ``key`` and ``CATALOGUE_VERSION``, so a record
always says which rule it was stored under; the version goes up whenever a row's key,
rule, budget or recipients change.

How the documents' words are read, once for all rows:

* Units: 1 KB = 1,000 B, 1 MB = 10**6 B, 1 GB = 10**9 B (docs/requirements.md#conv-units;
  the text does not say).
* Months and years: a retention period the text gives in months or years is counted in
  calendar months (``window_months``; a year is ``YEAR`` = 12 months), from the
  trigger's date and time in UTC (docs/requirements.md#conv-months). "Zes maanden na een
  gemeld incident" on 15 July ends on 15 January: a 30-day month would delete the record
  up to four days before the period the text names has passed. Periods given in days or
  hours stay fixed lengths in seconds. Budget periods are not deadlines and stay fixed
  lengths (``PERIOD_SECONDS``; docs/requirements.md#plat-r2).
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
  MINI-ID-related data be erased through MINI customer service
  (docs/requirements.md#da-r1).
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
    BudgetPer,
    CatalogueEntry,
    CatalogueError,
    RetentionRule,
    VolumeBudget,
)

CATALOGUE_VERSION: Final = "2"
HOUR: Final = 3_600.0
YEAR: Final = 12  # calendar months in a year of a retention window
KB: Final = 1_000
MB: Final = 1_000_000
GB: Final = 1_000_000_000
KEY_PATTERN: Final = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def _fixed(window_s: float, trigger: str, *, erasable: bool = False) -> RetentionRule:
    """A window the text gives in days or hours: a fixed length in seconds."""
    return RetentionRule(kind="fixed_window", trigger=trigger, window_s=window_s,
                         erasable_on_request=erasable)


def _months(months: int, trigger: str, *, erasable: bool = False) -> RetentionRule:
    """A window the text gives in months or years: that many calendar months."""
    return RetentionRule(kind="fixed_window", trigger=trigger, window_months=months,
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
    "MINI Connected says the data is deleted automatically but gives no period. No period is "
    "invented: the entry is not_stated, kept until erased on request."
)
_BACKEND_NOTHING: Final = (
    "MINI Connected says the backend stores nothing for this service; the data stays in the "
    "vehicle (and the app or phone). not_stated describes the in-vehicle rule (kept until "
    "the user deletes it or resets the car); a record of it arriving at the backend is "
    "unexpected. It is not never_stored, which is kept for the two eCall variants whose "
    "data path is fixed by law."
)
_NOT_DESCRIBED: Final = (
    "Only named in MINI Connected, never described: no data, retention or volume is given. "
    "Nothing may be assumed; the entry exists so that records can be tagged and flagged."
)
_NAVIGATION: Final = (
    "The 500 MB per month is stated once for MINI Navigation as a whole "
    "(docs/requirements.md#catalogue), not per sub-function. Each navigation entry "
    "carries it, approximate, so it is "
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
        source="MINI Connected §1; docs/requirements.md#airconsole_games",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="customer_hotline", service="Call Services", sub_function="Customer Hotline",
        retention=_fixed(28 * DAY, "data processed (call or request)", erasable=True),
        budget=_message(25 * KB, "< 25 KB per use or per engine switch-off", exclusive=True),
        third_parties=(),
        source="MINI Connected §2a; docs/requirements.md#customer_hotline",
    ),
    CatalogueEntry(
        key="hv_warn_call", service="Call Services", sub_function="High Voltage Warn Call",
        retention=_months(6, "reported incident"),
        budget=_message(25 * KB, "< 25 KB per use or per engine switch-off (shared sentence "
                        "with Customer Hotline)", exclusive=True),
        third_parties=("external service provider (BMW Call Center staff) → nearest local "
                       "PSAP → emergency services",),
        source="MINI Connected §2b; docs/requirements.md#hv_warn_call",
        ambiguity=(
            "The volume sentence is shared with the Customer Hotline: < 25 KB 'each time the "
            "service is used or when the engine is switched off'. "
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
        source="MINI Connected §2; docs/requirements.md#autonomous_driving_call",
        ambiguity=_NOT_DESCRIBED,
    ),
    CatalogueEntry(
        key="charge_management", service="Connected E-Mobility",
        sub_function="Charge Management",
        retention=_unstated("customer-account deletion, or charging history switched off"),
        budget=_period("day", 50 * KB, "< 50 KB per day", exclusive=True),
        third_parties=(),
        source="MINI Connected §3a; docs/requirements.md#charge_management",
    ),
    CatalogueEntry(
        key="remote_charge_management", service="Connected E-Mobility",
        sub_function="Remote Charge Management",
        retention=_closed("end of the charging session"),
        budget=None,
        third_parties=("customer-designated external charging provider (API)",),
        source="MINI Connected §3b; docs/requirements.md#remote_charge_management",
    ),
    CatalogueEntry(
        key="edrive_services", service="Connected E-Mobility", sub_function="eDrive Services",
        retention=_closed("end of the MINI Connected contract", erasable=True),
        budget=None,
        third_parties=("service providers (range map)",
                       "anonymised data to eMobility Community"),
        source="MINI Connected §3c; docs/requirements.md#edrive_services",
        ambiguity=(
            "The range map is kept 'voor één levenscyclus' (one life cycle), which is "
            "not defined (vehicle, battery or contract). Chosen: until the "
            "MINI Connected contract ends, the only end the same paragraph names for the "
            "data; the customer may delete it in the app at any time. A "
            "vehicle-life reading would outlast the contract, which that sentence rules out."
        ),
    ),
    CatalogueEntry(
        key="edrive_zone", service="Connected E-Mobility", sub_function="eDrive Zone",
        retention=_unstated("not stated"),
        budget=_period("day", 2 * KB, "~2 KB per day (approx.)", approx=True),
        third_parties=(),
        source="MINI Connected §3d; docs/requirements.md#edrive_zone",
        ambiguity="A BMW index item with only a volume figure; no retention is stated.",
    ),
    CatalogueEntry(
        key="parking_ospi", service="Connected Parking",
        sub_function="On-Street Parking Information (OSPI)",
        retention=_unstated("not stated"),
        budget=_message(40 * KB, "< 40 KB per parking-info update", exclusive=True),
        third_parties=("external parking-info provider",),
        source="MINI Connected §4; docs/requirements.md#parking_ospi",
    ),
    CatalogueEntry(
        key="parking_at_destination", service="Connected Parking",
        sub_function="Parking Situation at Destination",
        retention=_unstated("after processing"),
        budget=_message(1 * KB, "< 1 KB per use", exclusive=True),
        third_parties=("external provider",),
        source="MINI Connected §4; docs/requirements.md#parking_at_destination",
        ambiguity=(
            "MINI Connected says the data is not stored in the IT systems but sent to the "
            "provider, and also that it is 'only stored anonymised and deleted', "
            "with no period. Read as: nothing personal is kept; any "
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
        source="MINI Connected §4; docs/requirements.md#parking_space_assistant",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="parking_payments", service="Connected Parking", sub_function="Parking Payments",
        retention=_unstated("deletion of the user's MINI ID"),
        budget=_message(40 * KB, "< 40 KB per use or per engine switch-off", exclusive=True),
        third_parties=("parking-payment provider (name, e-mail, payment data, position)",),
        source="MINI Connected §4; docs/requirements.md#parking_payments",
        ambiguity=(
            "Account data lives until the user's MINI ID is deleted; debug data is "
            "'automatically deleted' with no period. Both are not_stated."
        ),
    ),
    CatalogueEntry(
        key="personal_esim", service="Connectivity", sub_function="Personal eSIM",
        retention=_closed("service deactivation"),
        budget=None,
        third_parties=("customer's mobile network operator",),
        source="MINI Connected §5; docs/requirements.md#personal_esim",
        ambiguity=(
            "The volume 'depends entirely on individual usage': no number, "
            "so no budget."
        ),
    ),
    CatalogueEntry(
        key="digital_key", service="Digital Key", sub_function="Digital Key / Digital Key Plus",
        retention=_lifetime("end of the vehicle's life"),
        budget=_period("vehicle", 5 * MB, "up to 5 MB per vehicle (full use)"),
        third_parties=("Apple/Google/Samsung Wallet",
                       "authorities on theft (if legally required)"),
        source="MINI Connected §6; docs/requirements.md#digital_key",
        ambiguity=(
            "Keys can be deleted, and all keys are deleted on a personal-data erasure "
            "request, yet 'after deletion' the key information is kept permanently in a "
            "secured backend until the end of the vehicle's life. The "
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
        source="MINI Connected §7a; docs/requirements.md#ecall_intelligent",
        ambiguity=(
            "MINI Connected gives three backend retention statements for Intelligent eCall: data "
            "kept 'until all procedures are completed', extended technical "
            "information stored 30 days and voice recordings kept up to 24 hours;"
            " in-vehicle data is overwritten at the next start. Read "
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
        source="MINI Connected §7a; docs/requirements.md#ecall_intelligent_voice",
        ambiguity=(
            "'kan spraakopnames tot 24 uur bewaren' is an upper bound from the call; see "
            "ecall_intelligent for how the three Intelligent eCall rules are split. The "
            "platform carries no audio: the call centre keeps a reference to the recording "
            "of the agent's call (it begins as the case opens) and deletes it 24 hours "
            "later. A voice recording has no byte budget in the documents."
        ),
    ),
    CatalogueEntry(
        key="ecall_intelligent_extended", service="Emergency Call",
        sub_function="Intelligent eCall – extended technical info",
        retention=_fixed(30 * DAY, "eCall event"),
        budget=None, third_parties=(),
        source="MINI Connected §7a; docs/requirements.md#ecall_intelligent_extended",
        ambiguity=(
            "Kept 30 days from the eCall event, independent of the case's closure: the text "
            "ties the 30 days to availability for customer service, not to the "
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
        source="MINI Connected §7b; docs/requirements.md#ecall_legal",
        safety=True,
    ),
    CatalogueEntry(
        key="ecall_psap", service="Emergency Call", sub_function="PSAP eCall",
        retention=_never("n/a (voice only, no data)"),
        budget=_message(0, "no data generated or sent (voice only)"),
        third_parties=(),
        source="MINI Connected §7c; docs/requirements.md#ecall_psap",
    ),
    CatalogueEntry(
        key="assistance_call_after_emergency_stop", service="Emergency Call",
        sub_function="Assistance Call after Emergency Stop (BMW only)",
        retention=_unstated("not described"),
        budget=None, third_parties=(),
        source="MINI Connected §7d; docs/requirements.md#assistance_call_after_emergency_stop",
        ambiguity=_NOT_DESCRIBED + " The index marks it BMW only, not MINI.",
    ),
    CatalogueEntry(
        key="remote_3d_view", service="Exterior Camera", sub_function="Remote 3D View",
        retention=_closed("successful download to the MINI App"),
        budget=_message(3 * MB, "~3 MB per request (approx.)", approx=True),
        third_parties=(),
        source="MINI Connected §8; docs/requirements.md#remote_3d_view",
    ),
    CatalogueEntry(
        key="anti_theft_recorder_exterior", service="Exterior Camera",
        sub_function="Anti-Theft Recorder (exterior)",
        retention=_unstated("user deletion / factory reset"),
        budget=_message(150 * MB, "max 150 MB per alarm video transfer"),
        third_parties=(),
        source="MINI Connected §8; docs/requirements.md#anti_theft_recorder_exterior",
        ambiguity=(
            "The video goes to the app on alarm; the text states no backend copy or period, "
            "only deletion in the app, the in-car menu or by factory reset."
        ),
    ),
    CatalogueEntry(
        key="drive_recorder", service="Exterior Camera", sub_function="Drive Recorder",
        retention=_unstated("user deletion / factory reset"),
        budget=_message(800 * MB, "up to 800 MB per recording (same on export)"),
        third_parties=(),
        source="MINI Connected §8; docs/requirements.md#drive_recorder",
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
        source="MINI Connected §9a; docs/requirements.md#voice_interaction",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="intelligent_functions", service="Intelligent Personal Assistant",
        sub_function="Intelligent Functions",
        retention=_months(5 * YEAR, "date of collection", erasable=True),
        budget=_message(2 * MB, "~2 MB per use (engine on → engine off)", approx=True),
        third_parties=(),
        source="MINI Connected §9b; docs/requirements.md#intelligent_functions",
        ambiguity=(
            "Two clocks: at most five years from collection, and 30 days "
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
        source="MINI Connected §9; docs/requirements.md#ipa_instruction_videos",
    ),
    CatalogueEntry(
        key="ipa_festive_videos", service="Intelligent Personal Assistant",
        sub_function="Festive videos",
        retention=_unstated("not stated"),
        budget=_period("year", 4 * 30 * MB, "~30 MB per festive video, ~4 times a year on "
                       "average", approx=True, per_message=30 * MB),
        third_parties=(),
        source="MINI Connected §9; docs/requirements.md#ipa_festive_videos",
        ambiguity=(
            "About 30 MB per video, on average four times a year; the "
            "yearly 120 MB is derived (4 x 30 MB) and approximate like its parts."
        ),
    ),
    CatalogueEntry(
        key="anti_theft_recorder_interior", service="Interior Camera",
        sub_function="Anti-Theft Recorder (Interior)",
        retention=_closed("successful download to the MINI App"),
        budget=_message(30 * MB, "max 30 MB per alarm recording transfer"),
        third_parties=(),
        source="MINI Connected §11; docs/requirements.md#anti_theft_recorder_interior",
        ambiguity=(
            "The server copy is kept 'until successfully downloaded to the app or "
            "automatically deleted'; the automatic deletion has no period, "
            "so the entry ends at the download."
        ),
    ),
    CatalogueEntry(
        key="remote_inside_view", service="Interior Camera", sub_function="Remote Inside View",
        retention=_closed("successful download to the MINI App"),
        budget=_message(30 * MB, "max 30 MB per request"),
        third_parties=(),
        source="MINI Connected §11; docs/requirements.md#remote_inside_view",
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
        source="MINI Connected §11; docs/requirements.md#interior_camera_function",
        ambiguity=_BACKEND_NOTHING,
    ),
    CatalogueEntry(
        key="connected_package", service="MINI Connected Package", sub_function="package",
        retention=_unstated("not stated"),
        budget=None, third_parties=(),
        source="MINI Connected §10; docs/requirements.md#connected_package",
        ambiguity=(
            "The package section has no data, retention or volume part; the services it "
            "enables carry their own rules."
        ),
    ),
    CatalogueEntry(
        key="learning_navigation", service="Navigation",
        sub_function="Learning/Proactive Navigation",
        retention=RetentionRule(kind="inactivity_window", trigger="data recording",
                                window_months=12, idle_months=3),
        budget=_period("month", 500 * MB, "avg 500 MB per month for Navigation overall",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="MINI Connected §12; docs/requirements.md#learning_navigation",
        ambiguity=_NAVIGATION,
    ),
    CatalogueEntry(
        key="map_update", service="Navigation", sub_function="Map Update (OTA/USB/USB portal)",
        retention=_fixed(30 * DAY, "data processed (update)"),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="MINI Connected §12; docs/requirements.md#map_update",
        ambiguity=_NAVIGATION,
    ),
    CatalogueEntry(
        key="destination_input", service="Navigation", sub_function="Destination Input",
        retention=_months(12, "search/destination entry", erasable=True),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="MINI Connected §12; docs/requirements.md#destination_input",
        ambiguity=_NAVIGATION,
    ),
    CatalogueEntry(
        key="routing", service="Navigation", sub_function="Routing",
        retention=_unstated("not stated"),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="MINI Connected §12; docs/requirements.md#routing",
        ambiguity=_NO_PERIOD + " " + _NAVIGATION,
    ),
    CatalogueEntry(
        key="rtti", service="Navigation", sub_function="RTTI (incl. Hazard Preview)",
        retention=_unstated("not stated"),
        budget=_period("month", 500 * MB, "(Navigation total) avg 500 MB per month",
                       approx=True),
        third_parties=("contracted partners (anonymised/pseudonymised)",),
        source="MINI Connected §12; docs/requirements.md#rtti",
        ambiguity=_NO_PERIOD + " " + _NAVIGATION,
    ),
    CatalogueEntry(
        key="personalization", service="Personalization", sub_function="Personalization",
        retention=_unstated("account removal / customer request"),
        budget=_period("month", 15 * MB, "up to 15 MB per vehicle per month"),
        third_parties=(),
        source="MINI Connected §13; docs/requirements.md#personalization",
    ),
    CatalogueEntry(
        key="remote_services_commands", service="Remote Control",
        sub_function="Remote Services – command history",
        retention=_fixed(30 * DAY, "command executed"),
        budget=_message(25 * KB, "< 25 KB per remote function executed", exclusive=True),
        third_parties=(),
        source="MINI Connected §14; docs/requirements.md#remote_services_commands",
    ),
    CatalogueEntry(
        key="remote_services_status", service="Remote Control",
        sub_function="Remote Services – vehicle status",
        retention=_months(6, "status data received"),
        budget=_message(1 * KB, "< 1 KB per status update", exclusive=True),
        third_parties=(),
        source="MINI Connected §14; docs/requirements.md#remote_services_status",
    ),
    CatalogueEntry(
        key="rsu", service="Remote Software Upgrade", sub_function="RSU download/install",
        retention=_lifetime("end of the vehicle's life"),
        budget=_message(10 * GB, "1–10 GB per download before installation (via app, Wi-Fi "
                        "or SIM); size shown in update info"),
        third_parties=("if aborted RSU → Roadside Assistance Call: vehicle, location, "
                       "movement data to third-party assistance provider",),
        source="MINI Connected §15; docs/requirements.md#rsu",
        ambiguity=(
            "Maintenance information is kept in the vehicle's maintenance documentation for "
            "the vehicle's life; 'vehicle data and upgrade data are also "
            "deleted automatically' with no period. The entry carries the "
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
        source="MINI Connected §16a; docs/requirements.md#teleservice_call",
        ambiguity=(
            "Cadence: the description says data goes to MINI 'monthly, based on a change in "
            "the vehicle's state'; the volume part says 'every 28 days or "
            "every 1,000 km'. Chosen: every 28 days or 1,000 km, whichever comes "
            "first, plus a transfer on each service or maintenance request; 28 days is the "
            "precise form of 'monthly'. The 50 KB 'maximaal' bounds each transfer. Retention "
            "of a call that shows no need, on which the erasure part is silent: superseded by "
            "the car's later calls, kept two call intervals (56 days) unless a need before it "
            "is still open (TS-R5). Recipients: "
            "the text's third-party part names only the preferred service centre; "
            "the Customer Interaction Center and Roadside Assistance are MINI's own desks "
            "that the description routes needs to, kept as recipients."
        ),
    ),
    CatalogueEntry(
        key="workshop_map", service="Repair & Maintenance",
        sub_function="Workshop map-data update",
        retention=_unstated("not stated"),
        budget=_period("year", 6 * 200 * KB, "~200 KB, ~6 times a year or as needed",
                       approx=True, per_message=200 * KB),
        third_parties=(),
        source="MINI Connected §16a; docs/requirements.md#workshop_map",
        ambiguity=(
            "'ongeveer zes keer per jaar of naar behoefte ... zo'n 200 KB': "
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
        source="MINI Connected §16b; docs/requirements.md#smart_maintenance",
        ambiguity=(
            "The volume sentence is shared with Teleservice Call ('maximaal 50 KB ... or "
            "every 28 days or every 1,000 km') while the description says "
            "data goes 'after every trip or once a week'. Chosen: the 50 KB bounds "
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
        source="MINI Connected §16c; docs/requirements.md#remote_key_read",
    ),
    CatalogueEntry(
        key="service_partner_management", service="Repair & Maintenance",
        sub_function="Service Partner Management",
        retention=_unstated("not stated"),
        budget=_message(25 * KB, "~25 KB per search/update of preferred partner", approx=True),
        third_parties=("preferred service centre",),
        source="MINI Connected §16d; docs/requirements.md#service_partner_management",
    ),
    CatalogueEntry(
        key="roadside_assistance", service="Repair & Maintenance",
        sub_function="Roadside Assistance Call",
        retention=_closed(_TELESERVICE_FAMILY),
        budget=_message(50 * KB, "< 50 KB per use or per engine switch-off", exclusive=True),
        third_parties=("MINI Roadside Assistance", "calls may be passed to third parties",
                       "preferred service centre"),
        source="MINI Connected §16e; docs/requirements.md#roadside_assistance",
    ),
    CatalogueEntry(
        key="accident_assistance", service="Repair & Maintenance",
        sub_function="Accident Assistance Call",
        retention=_closed(_TELESERVICE_FAMILY),
        budget=_message(50 * KB, "< 50 KB per use or per engine switch-off", exclusive=True),
        third_parties=("MINI Accident Assistance", "preferred service centre",
                       "on-site help / tow service"),
        source="MINI Connected §16f; docs/requirements.md#accident_assistance",
    ),
    CatalogueEntry(
        key="electronic_service_history", service="Repair & Maintenance",
        sub_function="Electronic Service History",
        retention=_unstated("not stated"),
        budget=None, third_parties=("workshop (implied)",),
        source="MINI Connected §16g; docs/requirements.md#electronic_service_history",
    ),
    CatalogueEntry(
        key="repair_history", service="Repair & Maintenance", sub_function="Repair History",
        retention=_unstated("not stated"),
        budget=None, third_parties=("workshop (implied)",),
        source="MINI Connected §16h; docs/requirements.md#repair_history",
    ),
    CatalogueEntry(
        key="remote_diagnosis", service="Repair & Maintenance", sub_function="Remote Diagnosis",
        retention=_unstated("not stated"),
        budget=_message(30 * KB, "max 30 KB per diagnosis request (consent per access)"),
        third_parties=("service centre (implied)",),
        source="MINI Connected §16i; docs/requirements.md#remote_diagnosis",
    ),
    CatalogueEntry(
        key="rm_independent_providers", service="Repair & Maintenance",
        sub_function="R&M Services for Independent Providers (EEA)",
        retention=_unstated("not stated"),
        budget=None, third_parties=("independent provider approved via MINI CarData",),
        source="MINI Connected §16j; docs/requirements.md#rm_independent_providers",
    ),
    CatalogueEntry(
        key="smartphone_integration", service="Smartphone Integration",
        sub_function="CarPlay / Android Auto",
        retention=_unstated("n/a (no BMW storage)"),
        budget=None, third_parties=("Apple / Google / phone apps (MINI shares nothing)",),
        source="MINI Connected §17; docs/requirements.md#smartphone_integration",
        ambiguity=_BACKEND_NOTHING,
    ),
    CatalogueEntry(
        key="anti_theft_notification", service="Technical Basis",
        sub_function="Anti-Theft Notification",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "< 1 KB per alarm notification", exclusive=True),
        third_parties=(),
        source="MINI Connected §18; docs/requirements.md#anti_theft_notification",
    ),
    CatalogueEntry(
        key="diagnostic_data_evaluation", service="Technical Basis",
        sub_function="Evaluation of Diagnostic Data",
        retention=_closed("analysis completed or action ended"),
        budget=_message(1 * MB, "up to 1 MB per vehicle trigger (e.g. \"CBD\" messages)"),
        third_parties=(),
        source="MINI Connected §18; docs/requirements.md#diagnostic_data_evaluation",
        ambiguity=(
            "The trigger 'CBD-meldingen' is unexplained, possibly CBS (Condition "
            "Based Service); it does not change the 1 MB bound per trigger."
        ),
    ),
    CatalogueEntry(
        key="xcc", service="Technical Basis", sub_function="Extendable Car Communications (xCC)",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "< 1 KB per communication", exclusive=True),
        third_parties=(),
        source="MINI Connected §18; docs/requirements.md#xcc",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="future_mobility_solutions", service="Technical Basis",
        sub_function="Future Mobility Solutions",
        retention=_unstated("not stated"),
        budget=_period("hour", 50 * KB, "< 50 KB per hour when activated", exclusive=True),
        third_parties=("selected development partners (anonymised, possibly abroad), "
                       "MINI partners",),
        source="MINI Connected §18; docs/requirements.md#future_mobility_solutions",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="product_quality_improvement", service="Technical Basis",
        sub_function="Improvement of Product Quality",
        retention=_unstated("not stated"),
        budget=_message(100 * KB, "avg 100 KB \"per schijf\" (probably per drive; AMBIGUOUS) "
                        "when activated", approx=True),
        third_parties=("map providers (anonymised)", "development partners (depersonalised)"),
        source="MINI Connected §18; docs/requirements.md#product_quality_improvement",
        ambiguity=_PER_SCHIJF + " " + _NO_PERIOD,
    ),
    CatalogueEntry(
        key="service_quality_improvement", service="Technical Basis",
        sub_function="Improvement of Service Quality",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "avg 1 KB \"per schijf\" (probably per drive; AMBIGUOUS) "
                        "when activated", approx=True),
        third_parties=("map providers (anonymised)", "development partners (depersonalised)"),
        source="MINI Connected §18; docs/requirements.md#service_quality_improvement",
        ambiguity=_PER_SCHIJF + " " + _NO_PERIOD,
    ),
    CatalogueEntry(
        key="myinfo", service="Technical Basis", sub_function="MyInfo",
        retention=_unstated("not stated"),
        budget=_message(1 * KB, "< 1 KB per MyInfo", exclusive=True),
        third_parties=(),
        source="MINI Connected §18; docs/requirements.md#myinfo",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="predictive_thermal_management", service="Technical Basis",
        sub_function="Predictive Thermal Management",
        retention=_months(6, "status recorded", erasable=True),
        budget=_message(10 * KB, "< 10 KB per active navigation session", exclusive=True),
        third_parties=(),
        source="MINI Connected §18; docs/requirements.md#predictive_thermal_management",
        ambiguity=(
            "The bound is per active navigation session; metered per message, which a "
            "compliant session never breaks. The data is also deleted when the MINI ID is "
            "removed from the car, hence erasable on request."
        ),
    ),
    CatalogueEntry(
        key="traffic_camera_information", service="Traffic Camera Information",
        sub_function="Traffic Camera Information",
        retention=_unstated("not stated"),
        budget=_period("month", 5 * MB, "max 5 MB per month, constant basis"),
        third_parties=(),
        source="MINI Connected §19; docs/requirements.md#traffic_camera_information",
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
        source="MINI Connected §20; docs/requirements.md#vehicle_apps",
        ambiguity=_NO_PERIOD,
    ),
    CatalogueEntry(
        key="video_streaming", service="Video Streaming", sub_function="Video Streaming",
        retention=_unstated("user action ('Browsergegevens wissen', profile deletion, "
                            "factory reset)"),
        budget=_period("year", 2_400 * MB, "avg 2.4 GB per year", approx=True),
        third_parties=("content providers (login redirect)",),
        source="MINI Connected §21; docs/requirements.md#video_streaming",
    ),
    CatalogueEntry(
        key="data_act_product_data", service="Data Act", sub_function="Product data (backend)",
        retention=_lifetime("per data type; at most the product's lifetime"),
        budget=None, third_parties=("via MINI CarData with holder consent",),
        source="MINI Connected Data Act art. 3(2); docs/requirements.md#data_act_product_data",
        ambiguity=(
            "Volume: 'tot 25 GB per uur ... / 4 TB ... gedurende 8 uur' "
            "disagree (25 GB x 8 h = 200 GB). Both describe traffic between ECUs inside the "
            "car, 'niet bedoeld om te kunnen worden opgehaald', not data sent to "
            "the backend, so neither becomes a budget. Retention '30 days up to the product's "
            "lifetime' is a range over data types: the entry carries the outer "
            "bound (vehicle_lifetime); each service entry's own rule wins for its data."
        ),
    ),
    CatalogueEntry(
        key="data_act_related_service_data", service="Data Act",
        sub_function="Related-service data (backend)",
        retention=_months(10 * YEAR, "per data type; at most 10 years", erasable=True),
        budget=None, third_parties=("via MINI CarData with holder consent",),
        source=("MINI Connected Data Act art. 3(3); "
                "docs/requirements.md#data_act_related_service_data"),
        ambiguity=(
            "Retention 'van minimaal 7 dagen tot 10 jaar' is a range over "
            "data types: the entry carries the outer bound, 10 years; each service entry's "
            "own rule wins for its data. Deletion can be requested through customer service "
            "(docs/requirements.md#da-r1). The volume '1 kByte to several MByte per hour' has no "
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
