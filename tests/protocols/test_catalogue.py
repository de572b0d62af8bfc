"""The catalogue against its table: one entry per row, the same numbers and words.

``tests/files/service_catalogue_table.md`` is the machine-readable table of the MINI Connected
services (docs/requirements.md#catalogue has one anchor per row, named by its key).
Every expectation here is read from that file (or from the project's fixed requirements:
the required keys and the three safety calls), never from ``protocols.catalogue``
itself, so a row that drifts from the table fails.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from protocols.catalogue import CATALOGUE, CATALOGUE_VERSION, entries_of, entry, keys, safety_keys
from protocols.catalogue_model import CatalogueEntry, CatalogueError, VolumeBudget
from tests.doc_anchors import REQUIREMENTS, anchors_of

TABLE = Path(__file__).parents[1] / "files" / "service_catalogue_table.md"
COLUMNS = ["service", "sub_function", "retention_rule", "retention_trigger",
           "volume_bytes_max", "volume_unit/frequency", "third_parties"]
NO_VOLUME = {"not stated", "not described", "n/a"}
NOBODY = {"none", "not stated", "not described"}
UNIT_SECONDS = {"h": 3_600, "hour": 3_600, "day": 86_400}
UNIT_MONTHS = {"month": 1, "year": 12}
Period = tuple[str, float]  # ("s", seconds) for days and hours, ("months", n) for months, years
DURATION = re.compile(r"(\d+)[\s-]*(hours?|h|days?|months?|years?)\b")


@dataclass(frozen=True)
class Row:
    service: str
    sub_function: str
    retention: str
    trigger: str
    volume: str
    frequency: str
    third_parties: str

    @property
    def ident(self) -> tuple[str, str]:
        return self.service, self.sub_function


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _read_table() -> list[Row]:
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines()
             if line.startswith("|")]
    assert _cells(lines[0]) == COLUMNS
    assert set(_cells(lines[1])) == {"---"}
    rows = [Row(*_cells(line)) for line in lines[2:]]
    assert rows and all(len(_cells(line)) == len(COLUMNS) for line in lines[2:])
    return rows


ROWS = _read_table()


def _entry_of(row: Row) -> CatalogueEntry:
    matches = [e for e in CATALOGUE if (e.service, e.sub_function) == row.ident]
    assert len(matches) == 1, row.ident
    return matches[0]


def _period(count: str, unit: str) -> Period:
    unit = unit.removesuffix("s") if unit != "h" else unit
    if unit in UNIT_MONTHS:
        return ("months", int(count) * UNIT_MONTHS[unit])
    return ("s", int(count) * float(UNIT_SECONDS[unit]))


def _durations(text: str) -> set[Period]:
    """The periods a row states: days and hours as seconds, months and years as months."""
    return {_period(n, unit) for n, unit in DURATION.findall(text)}


def _length(period: Period) -> float:
    """An order on periods; a month is at least 28 days, so any month outlasts 27 days."""
    unit, amount = period
    return amount * 28 * 86_400 if unit == "months" else amount


def _rule_period(seconds: float | None, months: int | None) -> Period | None:
    if months is not None:
        return ("months", months)
    return None if seconds is None else ("s", seconds)


def _row_id(row: Row) -> str:
    return f"{row.service}/{row.sub_function}"


# --- one entry per row -------------------------------------------------------------


def test_catalogue_has_exactly_one_entry_per_table_row_in_table_order() -> None:
    """Matched on service + sub_function: nothing missing, nothing extra, nothing twice."""
    assert Counter((e.service, e.sub_function) for e in CATALOGUE) == Counter(
        row.ident for row in ROWS)
    assert [(e.service, e.sub_function) for e in CATALOGUE] == [row.ident for row in ROWS]


def test_catalogue_keys_are_unique_snake_case() -> None:
    found = [e.key for e in CATALOGUE]
    assert len(found) == len(set(found))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", key) for key in found)
    assert keys() == tuple(found)


REQUIRED_KEYS = {
    "customer_hotline": ("Call Services", "Customer Hotline"),
    "hv_warn_call": ("Call Services", "High Voltage Warn Call"),
    "ecall_intelligent": ("Emergency Call", "Intelligent eCall"),
    "ecall_intelligent_voice": ("Emergency Call", "Intelligent eCall – voice recording"),
    "ecall_intelligent_extended": ("Emergency Call",
                                   "Intelligent eCall – extended technical info"),
    "ecall_legal": ("Emergency Call", "Legal eCall (EU eCall, EN15722 / Reg. 2015/758)"),
    "ecall_psap": ("Emergency Call", "PSAP eCall"),
    "teleservice_call": ("Repair & Maintenance", "Teleservice Call"),
    "smart_maintenance": ("Repair & Maintenance", "Smart Maintenance (opt-in, OS 7+)"),
    "workshop_map": ("Repair & Maintenance", "Workshop map-data update"),
    "roadside_assistance": ("Repair & Maintenance", "Roadside Assistance Call"),
    "accident_assistance": ("Repair & Maintenance", "Accident Assistance Call"),
    "rsu": ("Remote Software Upgrade", "RSU download/install"),
    "remote_services_commands": ("Remote Control", "Remote Services – command history"),
    "remote_services_status": ("Remote Control", "Remote Services – vehicle status"),
    "learning_navigation": ("Navigation", "Learning/Proactive Navigation"),
    "digital_key": ("Digital Key", "Digital Key / Digital Key Plus"),
    "charge_management": ("Connected E-Mobility", "Charge Management"),
    "predictive_thermal_management": ("Technical Basis", "Predictive Thermal Management"),
}


@pytest.mark.parametrize("key", sorted(REQUIRED_KEYS))
def test_catalogue_required_key_names_its_row(key: str) -> None:
    """The backend is wired to these keys; each must name the right table row."""
    found = entry(key)
    assert (found.service, found.sub_function) == REQUIRED_KEYS[key]
    assert REQUIRED_KEYS[key] in {row.ident for row in ROWS}


REQUIRED_KINDS = {
    "ecall_intelligent": "until_closed", "ecall_intelligent_voice": "fixed_window",
    "ecall_intelligent_extended": "fixed_window", "ecall_legal": "never_stored",
    "ecall_psap": "never_stored", "teleservice_call": "until_closed",
    "smart_maintenance": "until_closed", "workshop_map": "not_stated",
    "roadside_assistance": "until_closed", "accident_assistance": "until_closed",
    "rsu": "vehicle_lifetime", "remote_services_commands": "fixed_window",
    "remote_services_status": "fixed_window", "learning_navigation": "inactivity_window",
    "digital_key": "vehicle_lifetime",
}


@pytest.mark.parametrize("key", sorted(REQUIRED_KINDS))
def test_catalogue_required_retention_kind(key: str) -> None:
    assert entry(key).retention.kind == REQUIRED_KINDS[key]


# --- budgets -------------------------------------------------------------------------


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_catalogue_budget_numbers_equal_volume_column(row: Row) -> None:
    """volume_bytes_max is the per-message bound, or the period bound for "per <period>"."""
    budget = _entry_of(row).budget
    if row.volume in NO_VOLUME:
        assert budget is None
        return
    assert budget is not None
    value = int(row.volume)
    freq = row.frequency
    times_a_year = re.search(r"~?(\d+) times a year", freq)
    period = re.search(r"\bper (hour|day|month|year)\b", freq)
    if times_a_year:
        assert (budget.per, budget.per_message_bytes) == ("year", value)
        assert budget.period_bytes == int(times_a_year.group(1)) * value
    elif period:
        assert (budget.per, budget.period_bytes) == (period.group(1), value)
        assert budget.per_message_bytes is None
    elif re.search(r"\bper vehicle\b(?! trigger)", freq):  # not "per vehicle trigger"
        assert (budget.per, budget.period_bytes, budget.per_message_bytes) == (
            "vehicle", value, None)
    else:
        assert (budget.per, budget.per_message_bytes, budget.period_bytes) == (
            "message", value, None)


@pytest.mark.parametrize("row", [r for r in ROWS if r.volume not in NO_VOLUME], ids=_row_id)
def test_catalogue_budget_flags_follow_the_wording(row: Row) -> None:
    """"< X" is exclusive; "~", "approx", "avg" is approximate; wording is the column."""
    budget = _entry_of(row).budget
    assert budget is not None
    assert budget.wording == row.frequency
    assert budget.exclusive == row.frequency.startswith("<")
    assert budget.approx == bool(re.search(r"~|approx|avg|about", row.frequency))


@pytest.mark.parametrize("row", [r for r in ROWS if r.volume not in NO_VOLUME], ids=_row_id)
def test_catalogue_budget_rejects_exactly_above_the_stated_bound(row: Row) -> None:
    budget = _entry_of(row).budget
    assert budget is not None
    value = int(row.volume)
    over = budget.period_over if budget.per_message_bytes is None else budget.message_over
    if budget.approx:
        assert not over(value * 1_000 + 1)
    elif budget.exclusive:
        assert (over(value - 1), over(value)) == (False, True)
    else:
        assert (over(value), over(value + 1)) == (False, True)


def test_volume_budget_message_over_treats_exclusive_bounds() -> None:
    below = VolumeBudget(per="message", per_message_bytes=25_000, exclusive=True)
    upto = VolumeBudget(per="message", per_message_bytes=50_000)
    about = VolumeBudget(per="message", per_message_bytes=200_000, approx=True)
    nothing = VolumeBudget(per="message", per_message_bytes=0)
    unbounded = VolumeBudget(per="message")
    assert [below.message_over(n) for n in (24_999, 25_000, 25_001)] == [False, True, True]
    assert [upto.message_over(n) for n in (49_999, 50_000, 50_001)] == [False, False, True]
    assert not about.message_over(10**12)
    assert (nothing.message_over(0), nothing.message_over(1)) == (False, True)
    assert not unbounded.message_over(10**12)


def test_volume_budget_period_over_treats_exclusive_bounds() -> None:
    below = VolumeBudget(per="day", period_bytes=50_000, exclusive=True)
    upto = VolumeBudget(per="month", period_bytes=5_000_000)
    about = VolumeBudget(per="month", period_bytes=500_000_000, approx=True)
    assert [below.period_over(n) for n in (49_999, 50_000)] == [False, True]
    assert [upto.period_over(n) for n in (5_000_000, 5_000_001)] == [False, True]
    assert not about.period_over(10**15)
    assert below.period_s == 86_400.0
    with pytest.raises(ValueError, match="period_bytes"):
        VolumeBudget(per="day", per_message_bytes=1)


# --- retention -----------------------------------------------------------------------


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_catalogue_windows_match_the_retention_words(row: Row) -> None:
    """A window is the longest period the row states; an idle limit is another stated one.

    A row that states a period but is not windowed must say why in ``ambiguity``.
    """
    rule = _entry_of(row).retention
    stated = _durations(row.retention)
    if rule.kind in ("fixed_window", "inactivity_window"):
        assert stated, f"no period in {row.retention!r}"
        window = _rule_period(rule.window_s, rule.window_months)
        assert window == max(stated, key=_length)
        if rule.kind == "inactivity_window":
            idle = _rule_period(rule.idle_s, rule.idle_months)
            assert idle in stated
            assert idle is not None and _length(idle) < _length(window)
    elif stated:
        assert _entry_of(row).ambiguity


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_catalogue_kind_follows_the_retention_words(row: Row) -> None:
    rule = _entry_of(row).retention
    text = row.retention
    if "procedures completed" in text:
        assert rule.kind == "until_closed"
    if "vehicle life" in text:
        assert rule.kind == "vehicle_lifetime"
    if text.startswith(("not stated", "not described")):
        assert rule.kind == "not_stated"
    if "on request" in text or "customer request" in text:
        assert rule.erasable_on_request
    if rule.kind == "not_stated":
        assert rule.erasable_on_request
    assert rule.trigger


def test_catalogue_never_stored_is_exactly_legal_and_psap_ecall() -> None:
    never = {(e.service, e.sub_function) for e in CATALOGUE if not e.retention.stores}
    assert never == {row.ident for row in ROWS
                     if row.service == "Emergency Call" and row.retention.startswith("not stored")}
    assert {e.key for e in CATALOGUE if e.retention.kind == "never_stored"} == {
        "ecall_legal", "ecall_psap"}


def test_catalogue_psap_ecall_budget_is_zero_bytes() -> None:
    budget = entry("ecall_psap").budget
    assert budget is not None and budget.per_message_bytes == 0
    assert (budget.message_over(0), budget.message_over(1)) == (False, True)


# --- recipients, safety, ambiguity, sources ------------------------------------------


def _recipients(column: str) -> tuple[str, ...]:
    parts = (part.strip() for part in column.split(";"))
    return tuple(p for p in parts if p not in NOBODY and not p.startswith("none "))


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_catalogue_third_parties_are_the_column_split_on_semicolons(row: Row) -> None:
    assert _entry_of(row).third_parties == _recipients(row.third_parties)


def test_catalogue_safety_calls_are_exactly_the_three() -> None:
    assert safety_keys() == {"ecall_intelligent", "ecall_legal", "hv_warn_call"}
    safety_rows = {row.ident for row in ROWS
                   if row.sub_function in ("Intelligent eCall", "High Voltage Warn Call")
                   or row.sub_function.startswith("Legal eCall")}
    assert {(e.service, e.sub_function) for e in CATALOGUE if e.safety} == safety_rows


FLAGGED_READINGS = {  # rows whose reading is a choice (docs/requirements.md#conventions)
    "ecall_intelligent", "ecall_intelligent_extended", "ecall_intelligent_voice",
    "edrive_services", "hv_warn_call", "teleservice_call", "smart_maintenance",
    "product_quality_improvement", "service_quality_improvement",
    "data_act_product_data", "data_act_related_service_data", "digital_key",
    "assistance_call_after_emergency_stop", "autonomous_driving_call", "workshop_map",
}


def test_catalogue_flagged_rows_explain_their_reading() -> None:
    """Every row the table marks AMBIGUOUS or contrasts with a description has a note."""
    marked = {_entry_of(row).key for row in ROWS
              if "AMBIGUOUS" in "|".join(vars(row).values()) or "description:" in row.frequency}
    assert marked <= FLAGGED_READINGS
    for key in FLAGGED_READINGS:
        note = entry(key).ambiguity
        assert note and len(note) > 40, key


@pytest.mark.parametrize("item", CATALOGUE, ids=lambda e: e.key)
def test_catalogue_source_cites_a_section_and_its_requirement_anchor(item: CatalogueEntry) -> None:
    """A source names the MINI Connected section and the row's anchor in docs/requirements.md."""
    match = re.fullmatch(r"MINI Connected (?:§[0-9]+[a-j]?|Data Act art\. 3\([23]\)); "
                         r"docs/requirements\.md#([a-z0-9_-]+)", item.source)
    assert match, item.source
    assert match.group(1) == item.key
    assert match.group(1) in anchors_of(REQUIREMENTS), item.source


# --- lookup --------------------------------------------------------------------------


def test_entry_unknown_key_is_a_catalogue_error_naming_it() -> None:
    with pytest.raises(CatalogueError, match="nope") as caught:
        entry("nope")
    assert isinstance(caught.value, KeyError)
    assert "customer_hotline" in str(caught.value)


def test_entry_and_entries_of_return_the_rows() -> None:
    for item in CATALOGUE:
        assert entry(item.key) is item
    services = list(dict.fromkeys(row.service for row in ROWS))
    for service in services:
        assert [(e.service, e.sub_function) for e in entries_of(service)] == [
            row.ident for row in ROWS if row.service == service]
    assert entries_of("no such service") == ()


def test_catalogue_version_is_set() -> None:
    assert isinstance(CATALOGUE_VERSION, str) and CATALOGUE_VERSION not in ("", "0")


def test_required_rows_read_as_the_requirements_say() -> None:
    """Spot checks of readings the table alone does not fix."""
    learning = entry("learning_navigation").retention
    assert (learning.window_months, learning.idle_months) == (12, 3)
    assert (learning.window_s, learning.idle_s) == (None, None)
    assert entry("customer_hotline").retention.erasable_on_request
    teleservice = entry("teleservice_call").budget
    assert teleservice is not None
    assert (teleservice.per, teleservice.per_message_bytes, teleservice.exclusive) == (
        "message", 50_000, False)
    workshop = entry("workshop_map").budget
    assert workshop is not None
    assert (workshop.per, workshop.per_message_bytes, workshop.period_bytes,
            workshop.approx) == ("year", 200_000, 1_200_000, True)
    rsu = entry("rsu").budget
    assert rsu is not None and rsu.per_message_bytes == 10_000_000_000
    assert entry("ecall_intelligent_voice").retention.window_s == 24 * 3_600
