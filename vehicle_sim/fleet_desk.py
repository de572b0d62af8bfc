"""The service partners' desks for the fleet's cars, and what the backend may still hold.

When a fleet car has been to the workshop, its partner closes the car's cases through
the API, as the partner's staff would at their desk: every case of that car it was
notified of (``status: notified``) from before the visit, with the reason
``serviced``. Closing is what completes the procedures of TS-R5 (docs/requirements.md),
so the car's Teleservice calls of that cycle are deleted with the case.

A case shows up on the desk only once the services lane has handled the call, so a
visit's cases the desk does not see yet are tried again after the next clock move, and
at the end of the run the desks wait for them (``finish``).

``kept_calls`` says which of a car's calls the backend must still hold by the
documents' reading (TS-R5): the calls after the car's last closed case, less the calls
that showed no need and were superseded. The fleet check compares it with what the
backend lists; it is written here from the requirements, not from the backend's code,
so the two can disagree.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from vehicle_sim.teleservice import CALL_INTERVAL_S

NO_NEED_KEPT_S: Final = 2 * CALL_INTERVAL_S  # TS-R5 reading: two call intervals
GIVE_UP_ROUNDS: Final = 30  # a case never seen (its call was refused) stops being looked for


@dataclass(frozen=True, slots=True)
class CallNote:
    """One call a fleet car made: its id, the car's time and whether it showed a need."""

    call_id: str
    at: float
    need: bool


def kept_calls(calls: Iterable[CallNote], closures: Iterable[float]) -> frozenset[str]:
    """The calls the backend must still hold after these case closures.

    In the car's time order: a closure at ``t`` ends every call made up to ``t``; each
    new call ends the oldest calls that showed no need and are ``NO_NEED_KEPT_S`` older,
    up to the first call that showed a need.
    """
    events = sorted([(c.at, 1, c) for c in calls] + [(t, 0, None) for t in closures],
                    key=lambda e: (e[0], e[1]))
    held: list[CallNote] = []
    for at, _kind, call in events:
        if call is None:
            held = [c for c in held if c.at > at]
            continue
        while held and not held[0].need and call.at - held[0].at >= NO_NEED_KEPT_S:
            held.pop(0)
        held.append(call)
    return frozenset(c.call_id for c in held)


@dataclass(slots=True)
class _Waiting:
    vin: str
    visit_at: float
    rounds: int = 0


@dataclass(slots=True)
class PartnerDesk:
    """Closes, through the API, the cases of fleet cars that have been serviced."""

    waiting: dict[str, _Waiting] = field(default_factory=dict)  # case id -> its visit
    closures: dict[str, list[float]] = field(default_factory=dict)  # vin -> closed_at
    partner_of: dict[str, str] = field(default_factory=dict)  # vin -> its cases' partner
    closed: int = 0

    def visited(self, vin: str, at: float, case_ids: Sequence[str]) -> None:
        """Car ``vin`` was serviced at ``at``; ``case_ids`` are the cases of its needs."""
        for case_id in case_ids:
            self.waiting[case_id] = _Waiting(vin, at)

    async def finish(self, client: httpx.AsyncClient, deadline: float) -> str | None:
        """At the end of a run, the desks close what was serviced as it shows up, until
        nothing waits or the monotonic ``deadline`` passes, as expectations wait."""
        notes = []
        while True:
            note = await self.work(client, give_up=False)
            if note is not None:
                notes.append(note)
            if not self.waiting or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.5)  # polling interval of a desk's screen
        return "; ".join(notes) or None

    async def work(self, client: httpx.AsyncClient, *, give_up: bool = True) -> str | None:
        """One round at the desks: close what was serviced and is on screen now.

        A car's cases go to one partner (its preferred or assigned one), so once a
        car's partner is known only that desk is looked at; the directory is read only
        while some waiting car's partner is not known yet."""
        if not self.waiting:
            return None
        vins = {w.vin for w in self.waiting.values()}
        desks = {self.partner_of[v] for v in vins if v in self.partner_of}
        if not vins <= self.partner_of.keys():
            desks |= {p["id"] for p in (await client.get("/partners")).json()["data"]}
        done = 0
        for partner in sorted(desks):
            body: dict[str, Any] = (await client.get(f"/partners/{partner}/cases",
                                                     params={"limit": 1000})).json()
            for case in body["data"]:
                waiting = self.waiting.get(case["case_id"])
                if waiting is None or case["status"] != "notified":
                    continue
                self.partner_of[waiting.vin] = partner
                response = await client.post(f"/partners/{partner}/cases/{case['case_id']}"
                                             "/close", json={"reason": "serviced"})
                if response.status_code != 200:
                    continue
                del self.waiting[case["case_id"]]
                self.closures.setdefault(waiting.vin, []).append(
                    float(response.json()["closed_at"]))
                done += 1
        for case_id, waiting in list(self.waiting.items()) if give_up else ():
            waiting.rounds += 1
            if waiting.rounds >= GIVE_UP_ROUNDS:
                del self.waiting[case_id]
        self.closed += done
        return f"partner desks closed {done} serviced cases of fleet cars" if done else None
