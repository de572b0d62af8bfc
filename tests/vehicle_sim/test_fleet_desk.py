"""The fleet's partner desks close serviced cars' cases through the API."""

from __future__ import annotations

import json

import httpx

from vehicle_sim.fleet_desk import GIVE_UP_ROUNDS, PartnerDesk

VIN = "WMW5F013000000001"


class _Api:
    """Two partner desks; the case shows up on ``sp-b`` after ``shows_after`` rounds."""

    def __init__(self, shows_after: int) -> None:
        self.shows_after = shows_after
        self.rounds = 0
        self.requests: list[str] = []
        self.closed: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        if path == "/partners":
            self.rounds += 1
            return httpx.Response(200, json={"data": [{"id": "sp-a"}, {"id": "sp-b"}]})
        if request.method == "POST":
            self.closed.append((path, json.loads(request.content)["reason"]))
            return httpx.Response(200, json={"closed_at": 1_000.0 + len(self.closed)})
        cases = ([{"case_id": f"{VIN}-c1", "status": "notified"},
                  {"case_id": f"{VIN}-c0", "status": "closed"},
                  {"case_id": "someone-else", "status": "notified"}]
                 if path == "/partners/sp-b/cases" and self.rounds > self.shows_after else [])
        return httpx.Response(200, json={"data": cases})


async def test_partner_desk_closes_a_serviced_case_once_it_is_on_screen() -> None:
    api = _Api(shows_after=1)
    desk = PartnerDesk()
    async with httpx.AsyncClient(transport=httpx.MockTransport(api),
                                 base_url="http://api") as client:
        assert await desk.work(client) is None  # nothing serviced: no request at all
        assert api.requests == []
        desk.visited(VIN, 900.0, [f"{VIN}-c1", f"{VIN}-c0"])
        assert await desk.work(client) is None  # not handled by the lane yet
        note = await desk.work(client)
        assert note is not None and "closed 1" in note
        assert api.closed == [(f"/partners/sp-b/cases/{VIN}-c1/close", "serviced")]
        assert desk.closures == {VIN: [1_001.0]}
        assert desk.partner_of == {VIN: "sp-b"}
        api.requests.clear()
        for _ in range(GIVE_UP_ROUNDS):  # c0 never shows as notified: given up in time
            await desk.work(client)
        assert desk.waiting == {}
        assert "GET /partners" not in api.requests  # the car's desk is known by now
