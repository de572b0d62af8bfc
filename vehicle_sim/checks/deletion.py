"""A deletion with its dates: a record is held through one day and gone by the end of
another, checked at the moment of the check (the API still shows it, or no longer does)
and, once it is gone, against the audit trail's deadline and deletion time.

The audit names the kind of record, never the record (its reference cannot be traced
back once the record is gone, by design), so a gone record is matched to an audited
deletion of its kind whose deadline and deletion both fall in the expected window; the
scenario names the car, which keeps this unambiguous for the records a scenario makes.
"""

from __future__ import annotations

import time
from typing import Any, Final

import httpx

from vehicle_sim.checks.polling import until
from vehicle_sim.checks.view import RunView, Verdict
from vehicle_sim.scenario_checks import DeletionDef, RecordKind

AUDIT_COUNT: Final = 10_000
# What the audit calls each kind of record (the store's ``record_type``).
RECORD_TYPES: Final[dict[RecordKind, str]] = {
    "hv_case": "hv_warn_case", "ecall_case": "ecall_case",
    "assistance_case": "assistance_case", "teleservice_calls": "teleservice_call"}


def _paths(expect: DeletionDef, view: RunView) -> list[str]:
    """The API path of each record of the kind the car made in this run."""
    car = view.cars[expect.vehicle]
    match expect.record:
        case "hv_case" | "ecall_case":
            hv = expect.record == "hv_case"
            return [f"/desks/callcentre/incidents/{i}" for i in sorted(car.incidents)
                    if ("-hv-" in i) == hv]
        case "assistance_case":
            return [f"/assistance/cases/{r}" for r in sorted(car.assistance)]
        case "teleservice_calls":
            return [f"/vehicles/{car.vin}/teleservice-calls#{c}" for c in sorted(car.call_ids)]


async def _held(client: httpx.AsyncClient, paths: list[str]) -> dict[str, dict[str, Any]]:
    """The records still held, by path, as the API shows them."""
    held: dict[str, dict[str, Any]] = {}
    listed: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        base, _, call_id = path.partition("#")
        if call_id:
            if base not in listed:
                response = await client.get(base)
                listed[base] = response.json()["data"] if response.status_code == 200 else []
            call = next((c for c in listed[base] if c["call_id"] == call_id), None)
            if call is not None:
                held[path] = call
            continue
        response = await client.get(base)
        if response.status_code == 200:
            held[path] = response.json()
    return held


def audited(audit: list[dict[str, Any]], record_type: str, window: tuple[float, float]
            ) -> list[dict[str, Any]]:
    """Audited deletions of ``record_type`` whose deadline and deletion are in ``window``."""
    low, high = window

    def inside(text: object) -> bool:
        return bool(text) and low <= float(str(text)) < high

    return [a for a in audit if a.get("record_type") == record_type
            and inside(a.get("deadline")) and inside(a.get("deleted_at"))]


def _deadline_problem(expect: DeletionDef, held: dict[str, dict[str, Any]]) -> str | None:
    """A deadline a held record shows (``delete_after``) outside the window."""
    low, high = expect.window
    for record in held.values():
        due = record.get("delete_after")
        if due is not None and not low <= float(due) < high:
            return f"{record.get('incident', 'record')} is due at {float(due):.0f}, " \
                   f"outside [{low:.0f}, {high:.0f})"
    return None


async def check_deletion(client: httpx.AsyncClient, expect: DeletionDef, view: RunView, *,
                         timeout_s: float) -> Verdict:
    paths = _paths(expect, view)
    if not paths:
        return Verdict(False, f"{expect.vehicle} made no {expect.record} in this run")
    phase = expect.phase(view.now)
    held = await _held(client, paths)
    day = f"day {view.day(view.now):.1f}"
    problem = _deadline_problem(expect, held)
    if problem is not None:
        return Verdict(False, problem)
    if phase == "held":
        if len(held) < len(paths):
            return Verdict(False, f"{len(paths) - len(held)} of {len(paths)} {expect.record} "
                           f"already gone on {day}, held until {expect.held_until}")
        return Verdict(True, f"{len(held)} {expect.record} held on {day}")
    if phase == "gone" and held:
        return Verdict(False, f"{len(held)} {expect.record} still held on {day}, gone by "
                       f"{expect.gone_by}")
    gone = len(paths) - len(held)
    if not gone:
        return Verdict(True, f"{len(held)} {expect.record} held on {day}")
    record_type = RECORD_TYPES[expect.record]

    async def read_audit() -> list[dict[str, Any]]:
        response = await client.get("/retention/audit", params={"count": AUDIT_COUNT})
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    audit = await until(read_audit,
                        lambda a: len(audited(a, record_type, expect.window)) >= gone,
                        time.monotonic() + timeout_s)
    matched = audited(audit, record_type, expect.window)
    if len(matched) < gone:
        return Verdict(False, f"{gone} {expect.record} gone on {day}, but {len(matched)} "
                       f"audited deletions of {record_type} fell between {expect.held_until}"
                       f" and the end of {expect.gone_by}")
    return Verdict(True, f"{gone} {expect.record} gone on {day}, deleted "
                   + ", ".join(f"on day {view.day(float(a['deleted_at'])):.1f} (due day "
                               f"{view.day(float(a['deadline'])):.1f})" for a in matched[:3]))
