"""What ``telematics up`` and ``telematics sim run`` print and write after a scenario."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cli.api_client import request
from cli.retention import render_report
from cli.scenario_view import ScenarioView
from vehicle_sim.api_role import bearer
from vehicle_sim.expectations import Outcome, check_all
from vehicle_sim.mqtt_transport import Identities
from vehicle_sim.runner import CheckedStep, ScenarioRun, no_identity, run_scenario
from vehicle_sim.scenario import ExpectDef, Scenario
from vehicle_sim.scenario_checks import NewCheckDef
from vehicle_sim.trace import IncidentTrace


def _label(outcome: Outcome) -> str:
    """What the summary names an expectation by: its car, or what it counts or scans."""
    expect = outcome.expect
    return expect.label if isinstance(expect, NewCheckDef) else expect.vehicle


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _line(outcome: Outcome, at: float | None = None) -> dict[str, Any]:
    line = {"vehicle": _label(outcome), "ok": outcome.ok, "reason": outcome.reason,
            "expected": outcome.expect.model_dump(mode="json", exclude_none=True)}
    return line if at is None else {"at": _iso(at), **line}


def refusals_of(run: ScenarioRun) -> dict[str, list[str]]:
    """What each car refused to send, in words (a named car by its id, a fleet car by
    its VIN): a refusal is part of what the run did, whatever the expectations say."""
    named = {vid: list(s.refusals) for vid, s in run.services.items() if s.refusals}
    return named | {car.vin: list(car.refusals) for car in run.fleet if car.refusals}


def report(scenario: str, traces: dict[str, IncidentTrace], outcomes: list[Outcome],
           checked: Sequence[CheckedStep] = (),
           refusals: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The JSON report: every incident with its variant, route, party and latency; every
    message a car refused to send; the check steps' outcomes, each with its virtual
    instant, before the end's."""
    by_vehicle = {o.expect.vehicle: o for o in outcomes if isinstance(o.expect, ExpectDef)}
    incidents = []
    for vehicle, trace in traces.items():
        outcome = by_vehicle.get(vehicle)
        incidents.append({
            "vehicle": vehicle,
            "vin": trace.vin,
            "incident": trace.incident,
            "trigger": trace.trigger,
            "variant": trace.final_variant,
            "attempts": [{"variant": t.variant, "msg_id": t.msg_id, "acked": t.acked_ns is not None,
                          "ack_ms": t.ack_ms, "route": t.route} for t in trace.transmissions],
            "voice_call_country": trace.voice_country,
            "route": outcome.route if outcome else None,
            "received_by": outcome.desk if outcome else None,
            "latency_ms": outcome.latency_ms if outcome else None,
            "msd_update_requests": trace.update_requests,
        })
    return {
        "scenario": scenario,
        "passed": all(o.ok for o in outcomes) and all(c.outcome.ok for c in checked),
        "incidents": incidents,
        "refusals": [{"vehicle": vehicle, "refusal": note}
                     for vehicle, notes in (refusals or {}).items() for note in notes],
        "expectations": [*(_line(c.outcome, c.at) for c in checked), *map(_line, outcomes)],
    }


def print_summary(console: Console, data: dict[str, Any]) -> None:
    table = Table(title=f"scenario {data['scenario']}: incidents")
    for column in ("vehicle", "trigger", "variant", "received by", "latency ms", "attempts"):
        table.add_column(column, overflow="fold")
    for inc in data["incidents"]:
        latency = inc["latency_ms"]
        attempts = ", ".join(f"{a['variant']}#{a['msg_id']}{'' if a['acked'] else ' (no ack)'}"
                             for a in inc["attempts"])
        if inc["voice_call_country"]:
            attempts = ", ".join(x for x in (attempts, f"voice call in {inc['voice_call_country']}")
                                 if x)
        table.add_row(inc["vehicle"], inc["trigger"], inc["variant"], inc["route"] or "-",
                      "-" if latency is None else f"{latency:.2f}", attempts)
    if data["incidents"]:
        console.print(table)
    for refused in data["refusals"]:
        console.print(f"[yellow]REFUSED[/yellow] {refused['refusal']}", highlight=False)
    for exp in data["expectations"]:
        mark = "[green]PASS[/green]" if exp["ok"] else "[red]FAIL[/red]"
        when = f"[{exp['at']}] " if "at" in exp else ""
        console.print(f"{mark} {when}{exp['vehicle']}: {exp['reason']}")
    verdict = "[green]all expectations hold[/green]" if data["passed"] else \
        "[red]expectations failed[/red]"
    console.print(verdict)


def write_report(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


async def run_and_judge(plan: Scenario, *, mqtt_url: str, api_url: str, api_token: str,
                        console: Console, report_file: Path | None,
                        identities: Identities = no_identity,
                        retain_clock: bool = True) -> bool:
    """Run the scenario's cars, check its expectations, print and write the summary.

    ``api_token`` signs in every API call of the run (the operator's bearer token);
    ``identities`` issues each car (and the clock and fleet connections) its certificate
    for an ``mqtts://`` broker; ``retain_clock=False`` for a broker without retain."""
    headers = bearer(api_token)
    view = ScenarioView(console)
    try:
        run = await run_scenario(plan, mqtt_url=mqtt_url, api_url=api_url, api_headers=headers,
                                 watch=view, identities=identities, retain_clock=retain_clock)
    finally:
        view.close()
    outcomes = await check_all(api_url, plan, run, api_headers=headers,
                               timeout_s=plan.settle_timeout_s)
    data = report(plan.name, run.traces, outcomes, run.checked, refusals_of(run))
    if plan.expect_retention is not None:  # the auditor's view closes a retention scenario
        retention_report = await asyncio.to_thread(request, api_url, "GET",
                                                   "/retention/report", token=api_token)
        render_report(console, retention_report)
        data["retention"] = retention_report
    print_summary(console, data)
    if report_file is not None:
        write_report(report_file, data)
        console.print(f"report written to {report_file}")
    return bool(data["passed"])
