"""The service-partner routes: directory, a partner's cases, closing a case."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from redis.asyncio import Redis

from backend.api.routes.partners import router
from backend.services.maintenance import MaintenanceNeed
from backend.services.maintenance_store import mark_notified, open_case, read_case
from backend.services.partners import DIRECTORY
from tests.backend.support import StepClock, auth, new_vin, router_app

T0 = 1_767_225_600.0
PARTNER = "sp-be-bru"
# The caller, as its bearer token states it (backend.api.access): by default the partner whose
# desk these tests are about; a request's own Authorization replaces the default.
AS_PARTNER = auth("partner", PARTNER)
AS_OPERATOR = auth("operator")


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Redis]]:
    oem = Redis.from_url(redis_url, db=0)
    app = router_app(router, state=SimpleNamespace(oem=oem, clock=StepClock(T0 + 100)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers=AS_PARTNER) as http:
        yield http, oem
    await oem.aclose()


async def _case(oem: Redis, *, partner: str = PARTNER, now: float = T0) -> str:
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    need = MaintenanceNeed(new_vin(), "c-1", "teleservice", "service_need", ("P0300",), (),
                           5_000.0, now)
    await open_case(oem, need, case_id=case_id, partner_id=partner, now=now)
    return case_id


async def test_service_partner_routes_directory(
        client: tuple[httpx.AsyncClient, Redis]) -> None:
    """GET /partners lists the whole directory; ?country= narrows it; a partner sees itself."""
    http, _ = client
    body = (await http.get("/partners", headers=AS_OPERATOR)).json()
    assert body["count"] == len(DIRECTORY)
    assert {p["id"] for p in body["data"]} == set(DIRECTORY)
    slovenia = (await http.get("/partners", params={"country": "si"},
                               headers=AS_OPERATOR)).json()
    assert {p["country"] for p in slovenia["data"]} == {"SI"}
    own = (await http.get("/partners")).json()
    assert [p["id"] for p in own["data"]] == [PARTNER]


async def test_service_partner_routes_cases_newest_first(
        client: tuple[httpx.AsyncClient, Redis]) -> None:
    """A partner's cases come newest first; one case reads back with its findings."""
    http, oem = client
    older = await _case(oem, now=T0 + 1)
    newer = await _case(oem, now=T0 + 2)
    response = await http.get(f"/partners/{PARTNER}/cases")
    assert response.status_code == 200
    ids = [c["case_id"] for c in response.json()["data"]]
    assert ids.index(newer) < ids.index(older)
    one = (await http.get(f"/partners/{PARTNER}/cases/{older}")).json()
    assert (one["status"], one["fault_codes"], one["partner_id"]) == (
        "open", ["P0300"], PARTNER)


async def test_service_partner_routes_unknown_partner_is_404(
        client: tuple[httpx.AsyncClient, Redis]) -> None:
    """An unknown partner is a 404 naming it, on every route (to the operator)."""
    http, _ = client
    for method, path in (("GET", "/partners/sp-nope/cases"),
                         ("GET", "/partners/sp-nope/cases/x"),
                         ("POST", "/partners/sp-nope/cases/x/close")):
        response = await http.request(method, path, headers=AS_OPERATOR)
        assert response.status_code == 404
        assert response.json() == {"message": "unknown service partner 'sp-nope'",
                                   "field": "partner_id",
                                   "rule": "a service partner of the directory"}


async def test_service_partner_routes_unknown_or_foreign_case_is_404(
        client: tuple[httpx.AsyncClient, Redis]) -> None:
    """A missing case, or another partner's, is a 404 with the exact reason."""
    http, oem = client
    missing = await http.get(f"/partners/{PARTNER}/cases/case-missing")
    assert (missing.status_code, missing.json()) == (
        404, {"message": "no case 'case-missing'", "field": None, "rule": None})
    foreign = await _case(oem, partner="sp-be-ant")
    response = await http.get(f"/partners/{PARTNER}/cases/{foreign}")
    assert (response.status_code, response.json()["message"]) == (
        404, f"no case '{foreign}' at partner '{PARTNER}'")
    closing = await http.post(f"/partners/{PARTNER}/cases/{foreign}/close")
    assert (closing.status_code, closing.json()["message"]) == (
        404, f"no case '{foreign}' at partner '{PARTNER}'")


async def test_service_partner_routes_close_before_notified_is_409(
        client: tuple[httpx.AsyncClient, Redis]) -> None:
    """Closing a case whose need was not communicated yet is a 409; the case stays open."""
    http, oem = client
    case_id = await _case(oem)
    response = await http.post(f"/partners/{PARTNER}/cases/{case_id}/close")
    assert response.status_code == 409
    assert response.json() == {"message": f"case '{case_id}' is open; it can be closed only "
                                          "after the need was communicated",
                               "field": None,
                               "rule": "close only from notified "
                                       "(MINI Connected §16a, TS-R5: determined and communicated)"}
    assert (await read_case(oem, case_id)).status == "open"


async def test_service_partner_routes_close_after_notified(
        client: tuple[httpx.AsyncClient, Redis]) -> None:
    """A notified case closes with the request's reason and the clock's time, once."""
    http, oem = client
    case_id = await _case(oem)
    await mark_notified(oem, case_id, now=T0 + 10)
    response = await http.post(f"/partners/{PARTNER}/cases/{case_id}/close",
                               json={"reason": "serviced"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["closed_at"], body["close_reason"]) == (
        "closed", T0 + 100, "serviced")
    again = await http.post(f"/partners/{PARTNER}/cases/{case_id}/close")
    assert again.status_code == 409
    assert (again.json()["message"], again.json()["rule"]) == (
        f"case '{case_id}' is already closed", "a closed case does not move")


async def test_service_partner_routes_close_with_unknown_reason_is_422(
        client: tuple[httpx.AsyncClient, Redis]) -> None:
    """A close reason outside the list is refused by validation."""
    http, oem = client
    case_id = await _case(oem)
    await mark_notified(oem, case_id, now=T0)
    response = await http.post(f"/partners/{PARTNER}/cases/{case_id}/close",
                               json={"reason": "lost"})
    assert response.status_code == 422
