"""Storage checks: whether anything in the OEM's keyspace still holds a car's incident or
VIN, by the operator's scan (``GET /retention/storage``), not by the report's counts.

The scan leaves out the backend's bookkeeping that is no record (counters, replay
markers; ``backend.privacy.storage_scan`` says which and why); the scenario runner
itself stores nothing in the backend's database.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from vehicle_sim.checks.polling import until
from vehicle_sim.checks.view import RunView, Verdict
from vehicle_sim.scenario_checks import StoredDef


def _needles(expect: StoredDef, view: RunView) -> list[tuple[str, str]]:
    """What to scan for, as the route's parameter and value."""
    if expect.incident_of is not None:
        return [("contains", i) for i in sorted(view.cars[expect.incident_of].incidents)]
    if expect.msd_of is not None:
        return [("hex", msd) for msd in sorted(view.cars[expect.msd_of].msds)]
    assert expect.vin_of is not None
    return [("contains", view.cars[expect.vin_of].vin)]


async def check_stored(client: httpx.AsyncClient, expect: StoredDef, view: RunView, *,
                       timeout_s: float) -> Verdict:
    needles = _needles(expect, view)
    if not needles:
        return Verdict(False, f"{expect.vehicle} raised no incident in this run")
    shown_needles = ", ".join(f"MSD {v[:16]}..." if p == "hex" else v for p, v in needles)

    async def scan() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for param, needle in needles:
            response = await client.get("/retention/storage", params={param: needle})
            if response.status_code != 200:
                return [{"key": f"(scan refused: {response.status_code})", "refused": True}]
            found.extend(response.json()["hits"])
        return found

    def holds(found: list[dict[str, Any]]) -> bool:
        if any(h.get("refused") for h in found):
            return False
        return bool(found) == expect.present

    hits = await until(scan, holds, time.monotonic() + timeout_s)
    keys = sorted({str(h["key"]) for h in hits})
    shown = ", ".join(keys[:6]) + (f" (+{len(keys) - 6} more)" if len(keys) > 6 else "")
    if holds(hits):
        return Verdict(True, f"stored in {shown}" if keys else
                       f"nothing of {shown_needles} stored")
    if expect.present:
        return Verdict(False, f"nothing of {shown_needles} stored")
    return Verdict(False, f"still stored in {shown}")
