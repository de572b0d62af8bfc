"""Scenario files: the shipped ones load, and mistakes are named."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from vehicle_sim.scenario import (
    SCENARIO_DIR,
    AdvanceEvent,
    CampaignCreateEvent,
    ClockEvent,
    CrashEvent,
    MsdUpdateEvent,
    ScenarioError,
    SosEvent,
    load,
    parse,
)

BASE = """
name: t
vehicles:
  - {id: a, vin: WMW21DH0X0T123451, position: {lat: 50.8, lon: 4.3}, activation_country: BE}
"""


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario_shipped_files_load(path: object) -> None:
    """Every shipped scenario validates and references only its own vehicles."""
    scenario = load(str(path))
    assert scenario.vehicles


def test_scenario_default_covers_every_ecall_branch() -> None:
    """The default scenario expects every variant and an operator update."""
    scenario = load("default")
    variants = {e.variant for e in scenario.expect}
    assert variants == {"intelligent", "legal", "psap_voice"}
    assert any(isinstance(e, MsdUpdateEvent) for e in scenario.events)
    assert any(isinstance(e, SosEvent) for e in scenario.events)
    assert any(v.current_country != v.activation_country for v in scenario.vehicles)
    assert any("intelligent_unreachable" in v.faults for v in scenario.vehicles)


def test_scenario_durations_accept_units() -> None:
    """500ms, 2s and 1min are read as seconds."""
    text = BASE + "ack_timeout_s: 500ms\nevents:\n  - {at: 1min, vehicle: a, sos: {}}\n"
    scenario = parse(text)
    assert scenario.ack_timeout_s == 0.5
    assert scenario.events[0].at == 60.0


@pytest.mark.parametrize(("extra", "where"), [
    ("colour: red\n", "colour"),
    ("events:\n  - {at: 1, vehicle: b, sos: {}}\n", "events[0].vehicle"),
    ("events:\n  - {at: 1, vehicle: a}\n", "events.0: an event has exactly one"),
    ("events:\n  - {at: 1, vehicle: a, sos: {}, crash: {delta_v_kmh: 3}}\n", "exactly one"),
    ("events:\n  - {at: soon, vehicle: a, sos: {}}\n", "duration"),
    ("events:\n  - {at: 1, sos: {}}\n", "events.0.vehicle: Field required"),
    ("events:\n  - {at: 1, vehicle: a, crash: {delta_v_kmh: -3}}\n",
     "events.0.crash.delta_v_kmh: Input should be greater than or equal to 0"),
    ("events:\n  - {at: 1, vehicle: a, sos: {}, step: 1d}\n", "step goes with advance"),
    ("events:\n  - {at: 1, advance: 1d, crash_test: true}\n", "events.0.crash_test: Extra"),
    ("events:\n  - {at: 1, advance: 1d, wait_for_ota: done}\n", "wait_for_ota needs a vehicle"),
])
def test_scenario_mistakes_are_named(extra: str, where: str) -> None:
    """Unknown keys, unknown vehicles, events with no or two actions, missing or bad fields
    inside an event and bad durations name the culprit and the rule, in file keys."""
    with pytest.raises(ScenarioError) as err:
        parse(BASE + extra)
    assert where in str(err.value)


def test_scenario_unknown_name_lists_the_shipped_ones() -> None:
    """Asking for a scenario that does not exist lists what exists."""
    with pytest.raises(ScenarioError) as err:
        load("no-such-scenario")
    assert "default" in str(err.value)


def test_scenario_invalid_vin_is_refused() -> None:
    """A VIN with an O is not ISO 3779."""
    with pytest.raises(ScenarioError) as err:
        parse(BASE.replace("WMW21DH0X0T123451", "WMW21DH0X0T12345O"))
    assert "vin" in str(err.value)


def test_scenario_at_takes_an_instant_or_an_offset() -> None:
    """``at`` is a real-time offset, or an ISO instant that moves the scenario clock."""
    scenario = parse(BASE + "events:\n  - {at: 2s, advance: 28d}\n"
                     "  - {at: 2026-03-01T08:00}\n")
    advance, move = scenario.events
    assert isinstance(advance, AdvanceEvent) and isinstance(move, ClockEvent)
    assert advance.at == 2.0
    assert advance.advance == 28 * 86_400
    assert move.at is None
    assert move.instant == 1_772_352_000.0


def test_scenario_offsets_must_not_go_down_in_file_order() -> None:
    """Events run in file order, so a later line cannot have an earlier offset."""
    with pytest.raises(ScenarioError) as err:
        parse(BASE + "events:\n  - {at: 2s, vehicle: a, sos: {}}\n"
              "  - {at: 1s, vehicle: a, sos: {}}\n")
    assert "file order" in str(err.value)


def test_scenario_events_are_typed_by_their_action_key() -> None:
    """Each event is read as the type its action key names, fields and all."""
    scenario = parse(BASE + "events:\n"
                     "  - {at: 1, vehicle: a, crash: {delta_v_kmh: 30, rollover: true}}\n"
                     "  - {at: 2, vehicle: a, sos: {}, wait_for_ota: idle}\n"
                     "  - {at: 3, advance: 1d, step: 6h}\n"
                     "  - {at: 4, ota_campaign: {id: c, version: '2', size: 2GB,"
                     " groups: [{name: all}]}}\n")
    crash, sos, advance, campaign = scenario.events
    assert isinstance(crash, CrashEvent) and crash.crash.rollover and crash.vehicle == "a"
    assert isinstance(sos, SosEvent) and sos.wait_for_ota == "idle"
    assert isinstance(advance, AdvanceEvent) and (advance.advance, advance.step) == (86_400,
                                                                                    21_600)
    assert isinstance(campaign, CampaignCreateEvent) and campaign.ota_campaign.size == 2 * 10**9
    assert campaign.vehicle is None


def test_scenario_an_empty_action_key_is_no_action() -> None:
    """``crash:`` left empty beside ``sos: {}`` is read as no crash, as before the union."""
    scenario = parse(BASE + "events:\n  - {at: 1, vehicle: a, crash: null, sos: {}}\n")
    assert isinstance(scenario.events[0], SosEvent)


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario_shipped_events_keep_their_keys(path: Path) -> None:
    """Every shipped event reads back as the keys it was written with: the union changes
    how events are typed, not what the files say."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")).get("events", [])
    events = load(str(path)).events
    assert len(events) == len(raw)
    for written, read in zip(raw, events, strict=True):
        dumped = read.model_dump(exclude_defaults=True)
        assert set(written) - {"at"} <= set(dumped)
        assert ("instant" in dumped) == (isinstance(written.get("at"), datetime | date)
                                         or "-" in str(written.get("at", "")))
