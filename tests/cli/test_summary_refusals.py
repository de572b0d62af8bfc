"""A message a car refused to send is in the run's summary and its JSON report."""

from __future__ import annotations

import json

from rich.console import Console

from cli.summary import print_summary, refusals_of, report
from protocols.teleservice import TELESERVICE_RULE
from tests.vehicle_sim.test_car_refusals import MANY_CODES, _services
from vehicle_sim.runner import ScenarioRun


def test_summary_reports_each_refusal_in_words_and_in_json() -> None:
    """An over-size call refused by a named car is listed with its rule, in the printed
    summary and the JSON report; a car that refused nothing is not listed."""
    big, _link, _warnings = _services(opted_in=False)
    quiet, _link2, _warnings2 = _services(opted_in=False)
    big.check(fault_codes=MANY_CODES)
    run = ScenarioRun(traces={}, services={"big": big, "quiet": quiet}, fleet=[], cars={})
    data = report("oversize", {}, [], refusals=refusals_of(run))
    (refused,) = json.loads(json.dumps(data))["refusals"]
    assert refused["vehicle"] == "big"
    assert "Teleservice call (service_need) refused by the car" in refused["refusal"]
    assert TELESERVICE_RULE in refused["refusal"]
    console = Console(record=True, width=400)
    print_summary(console, data)
    assert f"REFUSED {refused['refusal']}" in console.export_text()


def test_summary_fleet_car_refusals_are_named_by_vin() -> None:
    """A fleet car has no id in the file: its refusals go under its VIN."""
    car, _link, _warnings = _services(opted_in=True)
    car.check(fault_codes=MANY_CODES, trip_ended=True)
    run = ScenarioRun(traces={}, services={}, fleet=[car], cars={})
    assert list(refusals_of(run)) == [car.vin]
    assert len(refusals_of(run)[car.vin]) == 2
