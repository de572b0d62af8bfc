"""Scenario expectations, checked against the backend from outside, over its HTTP API.

The emulator never looks into the backend's storage: like a QA tool it asks the desks
what they received, polling with a deadline until the record is there (or is complete,
for MSD updates), so a slow desk fails with a reason instead of a race.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from vehicle_sim.api_role import ApiHeaders
from vehicle_sim.car import Car
from vehicle_sim.car_services import CarServices
from vehicle_sim.checks.content import check_content
from vehicle_sim.checks.counts import check_count
from vehicle_sim.checks.deletion import check_deletion
from vehicle_sim.checks.polling import poll as _poll
from vehicle_sim.checks.stored import check_stored
from vehicle_sim.checks.timed_calls import check_calls
from vehicle_sim.checks.view import RunView, Verdict, view_of
from vehicle_sim.rejection_checks import rejections_counted
from vehicle_sim.scenario import (
    BudgetExpectDef,
    CampaignExpectDef,
    CheckItem,
    ExpectDef,
    FleetExpectDef,
    GrantDef,
    OtaExpectDef,
    RetentionExpectDef,
    Scenario,
    ServiceExpectDef,
)
from vehicle_sim.scenario_checks import (
    CallsDef,
    ContentDef,
    CountDef,
    DeletionDef,
    NewCheckDef,
    StoredDef,
)
from vehicle_sim.scenario_steps import RejectionsExpectDef
from vehicle_sim.trace import IncidentTrace

if TYPE_CHECKING:  # the runner imports this module to judge its check steps
    from vehicle_sim.runner import ScenarioRun


@dataclass(frozen=True, slots=True)
class Outcome:
    """One expectation's verdict, with what was observed."""

    expect: (ExpectDef | ServiceExpectDef | FleetExpectDef | OtaExpectDef | CampaignExpectDef
             | RetentionExpectDef | BudgetExpectDef | NewCheckDef | RejectionsExpectDef)
    ok: bool
    reason: str
    incident: str = ""
    variant: str = ""
    desk: str = ""
    latency_ms: float | None = None
    route: str = ""


async def _fetch(client: httpx.AsyncClient, desk: str, incident: str, deadline: float,
                 complete: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The desk's record once ``complete`` (its later transmissions may still be on their
    way when the car settles), or as it stands at the deadline."""
    record: dict[str, Any] | None = None
    while True:
        response = await client.get(f"/desks/{desk}/incidents/{incident}")
        if response.status_code == 200:
            record = response.json()
            if complete(record):
                return record
        if time.monotonic() >= deadline:
            return record
        await asyncio.sleep(0.05)  # polling interval while waiting for a desk, not a sync stand-in


def _route(record: dict[str, Any], desk: str) -> str:
    if desk == "callcentre":
        return f"callcentre -> {record.get('psap', '?')}"
    if record.get("kind") == "voice":
        return f"voice -> {desk}"
    return f"{record.get('via', 'direct')} -> {desk}"


async def check(client: httpx.AsyncClient, expect: ExpectDef, trace: IncidentTrace | None,
                *, timeout_s: float, profile: dict[str, Any] | None = None) -> Outcome:
    """The car's incident as the desk holds it: the car's final variant is the one the
    record says the car finally did, and ``updates`` is exact, because an update is
    counted only for an operator's request (docs/requirements.md#ecall-r1). An HV warn
    call's case carries the contact of the car's ``profile``, or none when the profile
    gives none (docs/requirements.md#hv-r2)."""
    if trace is None:
        return Outcome(expect, False, f"vehicle {expect.vehicle} raised no incident")
    if trace.final_variant != expect.variant:
        return Outcome(expect, False, f"car ended on {trace.final_variant}, expected "
                       f"{expect.variant}", trace.incident, trace.final_variant)
    deadline = time.monotonic() + timeout_s

    def seen_variant(record: dict[str, Any]) -> str:
        return str(record.get("variant", "intelligent" if expect.desk == "callcentre" else ""))

    def complete(record: dict[str, Any]) -> bool:
        return (seen_variant(record) == expect.variant
                and int(record.get("updates", 0)) >= (expect.updates or 0))

    record = await _fetch(client, expect.desk, trace.incident, deadline, complete)
    if record is None:
        return Outcome(expect, False, f"desk {expect.desk} never received incident "
                       f"{trace.incident}", trace.incident, trace.final_variant, expect.desk)
    latency = record.get("latency_ms")
    summary = (f"{trace.final_variant} at {expect.desk}"
               + (f" in {latency:.2f} ms" if latency is not None else "")
               + (f", handed to {record.get('psap')}" if expect.handed_to else "")
               + (f", {record.get('updates', 0)} MSD update(s)" if record.get("updates") else ""))
    found = Outcome(expect, True, summary, trace.incident, trace.final_variant, expect.desk,
                    latency, _route(record, expect.desk))
    problems = []
    if seen_variant(record) != expect.variant:
        problems.append(f"desk saw variant {seen_variant(record)}")
    if expect.within_ms is not None and (latency is None or latency > expect.within_ms):
        problems.append(f"latency {latency} ms > {expect.within_ms} ms")
    if expect.updates is not None and int(record.get("updates", 0)) != expect.updates:
        problems.append(f"{record.get('updates', 0)} MSD updates, expected {expect.updates}")
    if expect.variant == "hv_warn" and expect.desk == "callcentre":
        wanted = (profile or {}).get("contact")
        added = (record.get("extras") or {}).get("contact")
        if added != wanted:
            problems.append(f"contact {added} added, the profile holds {wanted}")
        found = replace(found, reason=f"{found.reason}, contact "
                        f"{added['name'] if added else 'missing (no profile contact)'}")
    if expect.handed_to is not None:
        if record.get("psap") != expect.handed_to:
            problems.append(f"handed to {record.get('psap')}, expected {expect.handed_to}")
        handed = await _fetch(client, expect.handed_to, trace.incident, deadline,
                              lambda r: r.get("via") == "callcentre")
        if handed is None or handed.get("via") != "callcentre":
            problems.append(f"{expect.handed_to} has no hand-over of {trace.incident}")
    if problems:
        return Outcome(expect, False, "; ".join(problems), found.incident, found.variant,
                       found.desk, latency, found.route)
    return found


async def check_services(client: httpx.AsyncClient, expect: ServiceExpectDef, vin: str,
                         services: CarServices | None, *, timeout_s: float) -> Outcome:
    """Teleservice rhythm, the partner's case and the assistance decision, as the API shows."""
    deadline = time.monotonic() + timeout_s
    problems: list[str] = []
    seen: list[str] = []
    if expect.teleservice_calls is not None:
        want = list(expect.teleservice_calls)
        mine = set(services.call_ids) if services is not None else set()

        def this_run(body: dict[str, Any]) -> list[str]:
            # Only this run's calls: a backend that lives on may hold earlier runs' too.
            return [c["reason"] for c in reversed(body["data"]) if c["call_id"] in mine]

        body = await _poll(client, f"/vehicles/{vin}/teleservice-calls",
                           lambda b: len(this_run(b)) >= len(want), deadline)
        got = this_run(body) if body else []
        if got != want:
            problems.append(f"Teleservice calls {got}, expected {want}")
        elif body and body["late"]:
            problems.append(f"late Teleservice calls: {body['late']}")
        else:
            seen.append(f"Teleservice calls {got}")
    if expect.partner_case is not None:
        case_def = expect.partner_case
        body = await _poll(client, f"/partners/{case_def.partner}/cases",
                           lambda b: any(c["vin"] == vin and c["status"] == case_def.status
                                         for c in b["data"]), deadline)
        if body is None or not any(c["vin"] == vin and c["status"] == case_def.status
                                   for c in body["data"]):
            problems.append(f"no {case_def.status} case at partner {case_def.partner}")
        else:
            seen.append(f"{case_def.status} case at {case_def.partner}")
    if expect.assistance is not None:
        problems.extend(await _check_assistance(client, expect.assistance, services, deadline,
                                                seen))
    if problems:
        return Outcome(expect, False, "; ".join(problems))
    return Outcome(expect, True, ", ".join(seen) or "ok")


async def _check_assistance(client: httpx.AsyncClient, grant: GrantDef,
                            services: CarServices | None, deadline: float,
                            seen: list[str]) -> list[str]:
    if services is None or not services.assistance_requests:
        return ["the car sent no assistance call"]
    request = services.assistance_requests[-1]
    wanted = set(grant.granted)

    def decided(body: dict[str, Any]) -> bool:
        limits = {g["service"]: g["limit"] for g in body["granted"]}
        return (bool(body["valid"]) == grant.valid and wanted <= set(limits)
                and all(limits.get(k) == v for k, v in grant.limits.items()))

    body = await _poll(client, f"/assistance/cases/{request}", decided, deadline)
    if body is None:
        return [f"no assistance case {request}"]
    granted = {g["service"] for g in body["granted"]}
    problems = []
    if bool(body["valid"]) != grant.valid:
        problems.append(f"cover valid={body['valid']} ({'; '.join(body['reasons'])})")
    if not wanted <= granted:
        problems.append(f"granted {sorted(granted)}, missing {sorted(wanted - granted)}")
    if set(grant.not_granted) & granted:
        problems.append(f"granted {sorted(set(grant.not_granted) & granted)} unexpectedly")
    limits = {g["service"]: g["limit"] for g in body["granted"]}
    for service, limit in grant.limits.items():
        if limits.get(service) != limit:
            problems.append(f"{service} granted with limit {limits.get(service)}, not {limit}")
    if not problems:
        seen.append(f"assistance granted {sorted(granted)}")
    return problems


async def check_fleet(client: httpx.AsyncClient, expect: FleetExpectDef,
                      cars: list[CarServices], *, timeout_s: float,
                      kept: Mapping[str, frozenset[str]] | None = None) -> Outcome:
    """The backend holds every Teleservice call each fleet car made that the documents
    let it keep (``kept``, per car; all of them without it), none of them late."""
    deadline = time.monotonic() + timeout_s
    ids = {car.vin: set(car.call_ids if kept is None else kept[car.vin]) for car in cars}
    sent = {vin: len(held) for vin, held in ids.items()}
    received: dict[str, int] = {}
    late: list[str] = []
    while True:
        for vin, count in sent.items():
            if received.get(vin) == count:
                continue
            body = (await client.get(f"/vehicles/{vin}/teleservice-calls")).json()
            received[vin] = sum(1 for c in body["data"] if c["call_id"] in ids[vin])
            if body["late"]:
                late.append(vin)
        if received == sent or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.2)  # polling interval while the services lane catches up
    total = sum(len(car.calls) for car in cars)
    problems = []
    if received != sent:
        missing = sum(sent.values()) - sum(received.values())
        problems.append(f"backend holds {missing} fewer Teleservice calls than it may keep "
                        "of those the cars made")
    if expect.teleservice_on_rhythm and late:
        problems.append(f"{len(set(late))} cars with calls later than 28 days / 1,000 km")
    if total < expect.min_calls:
        problems.append(f"{total} calls < {expect.min_calls}")
    if problems:
        return Outcome(expect, False, "; ".join(problems))
    return Outcome(expect, True, f"{total} Teleservice calls from {len(cars)} cars, "
                   f"{sum(sent.values())} still held as they may be, none late")


def _in_order(seen: list[str], wanted: list[str]) -> bool:
    """Whether ``wanted`` occurs in ``seen`` in this order, other items between allowed."""
    rest = iter(seen)
    return all(any(item == want for item in rest) for want in wanted)


async def check_ota(client: httpx.AsyncClient, expect: OtaExpectDef, car: Car, *,
                    timeout_s: float) -> Outcome:
    """The car's update as the backend saw it: final state, path, reasons, version."""
    vin = car.spec.vin
    if expect.state == "idle" and not car.ota.events:
        response = await client.get(f"/vehicles/{vin}/ota")
        events = response.json().get("events", []) if response.status_code == 200 else []
        if events:
            return Outcome(expect, False, f"backend holds {len(events)} OTA events of a car "
                           "that was never offered an update")
        return Outcome(expect, True, "never offered an update")

    def arrived(body: dict[str, Any]) -> bool:
        current = body.get("current") or {}
        return bool(current.get("state") == expect.state
                    and len(body.get("events", [])) >= len(car.ota.events))

    deadline = time.monotonic() + timeout_s
    body = await _poll(client, f"/vehicles/{vin}/ota", arrived, deadline)
    if body is None:
        return Outcome(expect, False, f"backend has no OTA record of {vin}")
    current = body.get("current") or {}
    phases = [e["state"] for e in body.get("events", [])]
    reasons = [e["reason"] for e in body.get("events", []) if e.get("reason")]
    problems = []
    if current.get("state") != expect.state:
        problems.append(f"backend sees {current.get('state')}, expected {expect.state}")
    if expect.reason is not None and current.get("reason") != expect.reason:
        problems.append(f"reason {current.get('reason')}, expected {expect.reason}")
    if expect.running_version is not None and \
            current.get("running_version") != expect.running_version:
        problems.append(f"runs {current.get('running_version')}, expected "
                        f"{expect.running_version}")
    if not _in_order(phases, list(expect.history)):
        problems.append(f"path {phases} lacks {expect.history} in order")
    if not set(expect.reasons_seen) <= set(reasons):
        problems.append(f"reasons {sorted(set(reasons))} lack {expect.reasons_seen}")
    if expect.charging_stopped is not None and \
            car.ota.charging_stopped != expect.charging_stopped:
        problems.append(f"charging stopped: {car.ota.charging_stopped}")
    if expect.assistance_call is not None:
        problems.extend(await _check_update_assistance(client, expect.assistance_call, car,
                                                       deadline))
    if problems:
        return Outcome(expect, False, "; ".join(problems))
    return Outcome(expect, True, f"{' -> '.join(dict.fromkeys(phases))}"
                   + (f" ({', '.join(dict.fromkeys(reasons))})" if reasons else ""))


async def _check_update_assistance(client: httpx.AsyncClient, wanted: bool, car: Car,
                                   deadline: float) -> list[str]:
    requests = car.services.assistance_requests
    if not wanted:
        return [f"the car raised {len(requests)} assistance calls"] if requests else []
    if not requests:
        return ["the failed update raised no assistance call"]
    body = await _poll(client, f"/assistance/cases/{requests[-1]}", lambda _b: True, deadline)
    return [] if body is not None else [f"no assistance case {requests[-1]}"]


async def check_campaign(client: httpx.AsyncClient, expect: CampaignExpectDef, *,
                         timeout_s: float) -> Outcome:
    """A campaign's status, pause reason and vehicles per status, from the API."""
    def holds(body: dict[str, Any]) -> bool:
        counts = body.get("counts", {})
        return (body.get("status") == expect.status
                and (expect.paused_reason is None
                     or body.get("paused_reason") == expect.paused_reason)
                and all(counts.get(k) == v for k, v in expect.counts.items()))

    body = await _poll(client, f"/ota/campaigns/{expect.id}", holds,
                       time.monotonic() + timeout_s)
    if body is None:
        return Outcome(expect, False, f"no campaign {expect.id}")
    seen = {k: v for k, v in body.get("counts", {}).items() if v}
    summary = f"{body.get('status')}" + (f" ({body['paused_reason']})"
                                         if body.get("paused_reason") else "") + f", {seen}"
    if not holds(body):
        return Outcome(expect, False, f"campaign is {summary}; expected {expect.status}"
                       + (f" ({expect.paused_reason})" if expect.paused_reason else "")
                       + f", {expect.counts}")
    return Outcome(expect, True, summary + (f", reasons {body['reasons']}"
                                            if body.get("reasons") else ""))


def _retention_problems(expect: RetentionExpectDef, report: dict[str, Any],
                        audit: list[dict[str, Any]]) -> list[str]:
    rows = {r["service"]: r for r in report["services"]}
    problems = []
    if report["overdue"] > expect.overdue:
        problems.append(f"{report['overdue']} records past their deadline")
    for service, least in expect.deleted.items():
        done = int(rows.get(service, {}).get("deleted", 0))
        if done < least:
            problems.append(f"{service}: {done} deleted < {least}")
    for service, count in expect.held.items():
        held = int(rows.get(service, {}).get("held", 0))
        if held != count:
            problems.append(f"{service}: {held} held, expected {count}")
    if expect.never_stored:
        problems.extend(f"{r['service']}: {r['held']} records held, none may be"
                        for r in report["never_stored"] if r["held"])
    if expect.max_lateness is not None:
        late = [a for a in audit if a.get("reason") == "deadline"
                and float(a["deleted_at"]) - float(a["deadline"]) > expect.max_lateness]
        if late:
            late.sort(key=lambda a: float(a["deadline"]) - float(a["deleted_at"]))
            worst = float(late[0]["deleted_at"]) - float(late[0]["deadline"])
            examples = "; ".join(
                f"{a.get('service', '?')} {a.get('ref', '?')} written {_day(a['written_at'])}, "
                f"due {_day(a['deadline'])}, deleted {_day(a['deleted_at'])}" for a in late[:3])
            problems.append(f"{len(late)} deletions came late, up to {worst / 86_400:.1f} d "
                            f"({examples})")
    return problems


def _day(stamp: object) -> str:
    """An audit time as the auditor reads it, to the second (UTC)."""
    try:
        return datetime.fromtimestamp(float(str(stamp)), UTC).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return "?"


async def check_retention(client: httpx.AsyncClient, expect: RetentionExpectDef, *,
                          timeout_s: float) -> Outcome:
    """The retention report and the audit trail, as an auditor reads them."""
    problems: list[str] = []
    report: dict[str, Any] = {}
    audit: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        report = (await client.get("/retention/report")).json()
        audit = (await client.get("/retention/audit", params={"count": 10_000})).json()["data"]
        problems = _retention_problems(expect, report, audit)
        if not problems or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)  # polling interval while the sweeper works
    if problems:
        return Outcome(expect, False, "; ".join(problems))
    kept = {r["service"]: r["held"] for r in report["services"] if r["held"]}
    return Outcome(expect, True, f"{report['deleted']} records deleted on their day "
                   f"({len(audit)} audited), none overdue, still held {kept}, nothing of "
                   + ", ".join(r["service"] for r in report["never_stored"]) + " stored")


async def check_budgets(client: httpx.AsyncClient, expect: BudgetExpectDef) -> Outcome:
    """Fleet-wide rejections, flags and message counts per service (``GET /budgets``)."""
    body = (await client.get("/budgets")).json()
    rows = {r["key"]: r for r in body["fleet"]["services"]}
    problems = []
    for name, wanted, field in (("rejected", expect.rejected, "rejected"),
                                ("flagged", expect.flagged, "flagged")):
        for service, count in wanted.items():
            got = sum(rows.get(service, {}).get(field, {}).values())
            if got != count:
                problems.append(f"{service}: {got} {name}, expected {count}")
    for service, least in expect.messages.items():
        got = int(rows.get(service, {}).get("total_msgs", 0))
        if got < least:
            problems.append(f"{service}: {got} messages metered < {least}")
    if problems:
        return Outcome(expect, False, "; ".join(problems))
    used = {k: r["total_msgs"] for k, r in rows.items() if r.get("total_msgs")}
    return Outcome(expect, True, f"messages metered {used}; rejections and flags as "
                   "expected")


async def _new_check(client: httpx.AsyncClient, expect: NewCheckDef, view: RunView,
                     timeout_s: float) -> Verdict:
    match expect:
        case CountDef():
            return await check_count(client, expect, view, timeout_s=timeout_s)
        case CallsDef():
            return await check_calls(client, expect, view, timeout_s=timeout_s)
        case DeletionDef():
            return await check_deletion(client, expect, view, timeout_s=timeout_s)
        case StoredDef():
            return await check_stored(client, expect, view, timeout_s=timeout_s)
        case ContentDef():
            return await check_content(client, expect, view, timeout_s=timeout_s)


async def judge(client: httpx.AsyncClient, item: CheckItem, scenario: Scenario,
                run: ScenarioRun, view: RunView, *, timeout_s: float) -> Outcome:
    """One item of a check step or of ``expect_checks``, by the check of its kind."""
    match item.definition:
        case ExpectDef() as expect:
            return await check(client, expect, run.traces.get(expect.vehicle),
                               timeout_s=timeout_s)
        case ServiceExpectDef() as expect:
            return await check_services(client, expect, scenario.vehicle(expect.vehicle).vin,
                                        run.services.get(expect.vehicle), timeout_s=timeout_s)
        case OtaExpectDef() as expect:
            return await check_ota(client, expect, run.cars[expect.vehicle],
                                   timeout_s=timeout_s)
        case CampaignExpectDef() as expect:
            return await check_campaign(client, expect, timeout_s=timeout_s)
        case RetentionExpectDef() as expect:
            return await check_retention(client, expect, timeout_s=timeout_s)
        case BudgetExpectDef() as expect:
            return await check_budgets(client, expect)
        case CountDef() | CallsDef() | DeletionDef() | StoredDef() | ContentDef() as new:
            verdict = await _new_check(client, new, view, timeout_s)
            return Outcome(new, verdict.ok, verdict.reason)
    raise TypeError(f"no check for {item.kind}")


def run_view(scenario: Scenario, run: ScenarioRun, *, now: float) -> RunView:
    """What a check sees of ``run`` at the virtual instant ``now``."""
    return view_of(scenario, run.cars, run.fleet, run.incidents, start=run.started_at,
                   now=now)


async def check_all(api_url: str, scenario: Scenario, run: ScenarioRun, *,
                    api_headers: ApiHeaders, timeout_s: float) -> list[Outcome]:
    async with httpx.AsyncClient(base_url=api_url, timeout=5.0,
                                 headers=dict(api_headers)) as client:
        incidents = [check(client, e, run.traces.get(e.vehicle), timeout_s=timeout_s,
                           profile=scenario.vehicle(e.vehicle).profile)
                     for e in scenario.expect]
        services = [check_services(client, e, scenario.vehicle(e.vehicle).vin,
                                   run.services.get(e.vehicle), timeout_s=timeout_s)
                    for e in scenario.expect_services]
        fleet = ([check_fleet(client, scenario.expect_fleet, run.fleet, timeout_s=timeout_s,
                              kept=run.fleet_kept or None)]
                 if scenario.expect_fleet is not None else [])
        ota = [check_ota(client, e, run.cars[e.vehicle], timeout_s=timeout_s)
               for e in scenario.expect_ota]
        campaigns = [check_campaign(client, e, timeout_s=timeout_s)
                     for e in scenario.expect_campaigns]
        audits = ([check_retention(client, scenario.expect_retention, timeout_s=timeout_s)]
                  if scenario.expect_retention is not None else [])
        budgets = ([check_budgets(client, scenario.expect_budgets)]
                   if scenario.expect_budgets is not None else [])
        view = run_view(scenario, run, now=run.ended_at)
        checks = [judge(client, item, scenario, run, view, timeout_s=timeout_s)
                  for item in scenario.expect_checks]
        rejections = ([check_rejections(client, scenario.expect_rejections, timeout_s,
                                        answered=lambda: sum(len(car.rejections)
                                                             for car in run.cars.values()))]
                      if scenario.expect_rejections is not None else [])
        return list(await asyncio.gather(*incidents, *services, *fleet, *ota, *campaigns,
                                         *audits, *budgets, *checks, *rejections))


async def check_rejections(client: httpx.AsyncClient, expect: RejectionsExpectDef,
                           timeout_s: float, *, answered: Callable[[], int]) -> Outcome:
    return Outcome(expect, *await rejections_counted(client, expect, timeout_s=timeout_s,
                                                     answered=answered))
