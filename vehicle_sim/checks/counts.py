"""Exact counts and absence: how many records of a kind the backend holds from this run.

Each kind is counted where the API shows it, and only records of this run count, so a
backend that lives on across runs does not inflate a count: incidents by the ids the run's
cars raised, Teleservice calls by the call ids they sent, assistance cases by their
request ids. Partner cases and Smart Maintenance transfers carry no id the car keeps, so
they count by the run's VINs (a scenario's VINs are its own): partner cases as the
partner's list shows them, transfers as the budget meter metered them (the backend keeps
no transfer apart from the case it may open).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx

from vehicle_sim.checks.polling import until
from vehicle_sim.checks.view import RunView, Verdict
from vehicle_sim.scenario_checks import CountDef

LIST_LIMIT = 1000  # the API's largest page


async def _incidents(client: httpx.AsyncClient, expect: CountDef, view: RunView) -> int:
    ours = {i for car in view.chosen(expect.vehicle) for i in car.incidents}
    response = await client.get(f"/desks/{expect.desk}/incidents",
                                params={"limit": LIST_LIMIT})
    if response.status_code != 200:
        return 0
    return sum(1 for r in response.json()["data"] if r["incident"] in ours)


async def _teleservice(client: httpx.AsyncClient, expect: CountDef, view: RunView) -> int:
    total = 0
    for vin, ids in view.calls(expect.vehicle).items():
        response = await client.get(f"/vehicles/{vin}/teleservice-calls")
        if response.status_code == 200:
            total += sum(1 for c in response.json()["data"] if c["call_id"] in ids)
    return total


async def _smart_maintenance(client: httpx.AsyncClient, expect: CountDef,
                             view: RunView) -> int:
    total = 0
    for car in view.chosen(expect.vehicle):
        response = await client.get(f"/budgets/{car.vin}")
        if response.status_code == 200:  # 404: a car the meter never saw sent nothing
            total += sum(int(r["total_msgs"]) for r in response.json()["services"]
                         if r["key"] == "smart_maintenance")
    return total


async def _assistance(client: httpx.AsyncClient, expect: CountDef, view: RunView) -> int:
    ours = {r for car in view.chosen(expect.vehicle) for r in car.assistance}
    response = await client.get("/assistance/cases", params={"limit": LIST_LIMIT})
    return sum(1 for c in response.json()["data"] if c["request_id"] in ours)


async def _partner_cases(client: httpx.AsyncClient, expect: CountDef, view: RunView) -> int:
    vins = {car.vin for car in view.chosen(expect.vehicle)}
    response = await client.get(f"/partners/{expect.partner}/cases",
                                params={"limit": LIST_LIMIT})
    if response.status_code != 200:
        return 0
    return sum(1 for c in response.json()["data"] if c["vin"] in vins)


_COUNTERS: dict[str, Callable[[httpx.AsyncClient, CountDef, RunView], Awaitable[int]]] = {
    "incidents": _incidents, "teleservice_calls": _teleservice,
    "smart_maintenance": _smart_maintenance, "assistance_cases": _assistance,
    "partner_cases": _partner_cases}


async def check_count(client: httpx.AsyncClient, expect: CountDef, view: RunView, *,
                      timeout_s: float) -> Verdict:
    """The count, asked again until it holds or the timeout passes (records still on
    their way arrive meanwhile; a count that is already right is answered at once)."""
    counter = _COUNTERS[expect.of]
    count = await until(lambda: counter(client, expect, view), expect.holds,
                        time.monotonic() + timeout_s)
    where = expect.desk or expect.partner
    what = f"{count} {expect.of.replace('_', ' ')}" + (f" at {where}" if where else "") + \
        f" of {expect.vehicle or 'the run'}"
    if expect.holds(count):
        return Verdict(True, what)
    return Verdict(False, f"{what}, expected {expect.wanted()}")
