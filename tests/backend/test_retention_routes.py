"""The retention routes over a real Redis: report, audit, erasure, closing a case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from redis.asyncio import Redis

from backend.api.routes import assistance, desks, retention, vehicles
from backend.infra import keys
from backend.privacy import retention_store
from backend.privacy.retention_tags import tag_record
from tests.backend.support import StepClock, auth, new_vin, router_app

T0 = 1_767_225_600.0
DAY = 86_400.0
OPERATOR = auth("operator")


@pytest.fixture
async def api(redis_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Redis, StepClock]]:
    oem = Redis.from_url(redis_url, db=12)
    await oem.flushdb()
    clock = StepClock(T0)
    app = router_app(*(r.router for r in (retention, vehicles, desks, assistance)),
                     state=SimpleNamespace(oem=oem, clock=clock))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        yield http, oem, clock
    await oem.aclose()


async def _store(oem: Redis, key: str, service: str, vin: str, at: float) -> None:
    async with oem.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"body": "content"})
        tag_record(pipe, record_key=key, service=service, vin=vin, written_at=at)
        await pipe.execute()


async def test_retention_routes_report_and_audit_follow_the_backend_clock(
        api: tuple[httpx.AsyncClient, Redis, StepClock]) -> None:
    http, oem, clock = api
    vin = new_vin()
    await _store(oem, "hotline:1", "customer_hotline", vin, T0)
    await oem.hincrby(keys.INGEST_COUNTERS, "legal:new", 3)  # what the emergency lane relayed
    report = (await http.get("/retention/report", headers=OPERATOR)).json()
    [row] = report["services"]
    assert (row["service"], row["held"], row["next_due"], row["overdue"]) == (
        "customer_hotline", 1, T0 + 28 * DAY, 0)
    assert report["never_stored"] == [
        {"service": "ecall_legal", "held": 0, "relayed_to_psap": 3, "stored_by_oem": False},
        {"service": "ecall_psap", "held": 0, "relayed_to_psap": 0, "stored_by_oem": False}]
    clock.at = T0 + 29 * DAY
    assert (await http.get("/retention/report", headers=OPERATOR)).json()["overdue"] == 1
    assert await retention_store.sweep(oem, now=clock.at) == 1
    audit = (await http.get("/retention/audit", headers=OPERATOR)).json()
    assert audit["count"] == 1 and audit["data"][0]["service"] == "customer_hotline"
    assert "content" not in str(audit) and vin not in str(audit)


async def test_retention_routes_erase_only_what_the_rules_allow(
        api: tuple[httpx.AsyncClient, Redis, StepClock]) -> None:
    """The hotline's rule allows erasure on request (§2a); an HV warn record does not."""
    http, oem, _ = api
    vin = new_vin()
    await _store(oem, "hotline:2", "customer_hotline", vin, T0)
    await _store(oem, "hv:2", "hv_warn_call", vin, T0)
    refused = await http.delete(f"/vehicles/{vin}/data", params={"service": "hv_warn_call"},
                                headers=OPERATOR)
    assert refused.status_code == 409
    assert (refused.json()["field"], refused.json()["rule"]) == (
        "service", "fixed_window: not erasable on request")
    done = (await http.delete(f"/vehicles/{vin}/data", headers=OPERATOR)).json()
    assert (done["erased"], done["refused"]) == (1, {"hv_warn_call": "fixed_window"})
    assert (await oem.exists("hotline:2"), await oem.exists("hv:2")) == (0, 1)
    unknown = await http.delete(f"/vehicles/{vin}/data", params={"service": "nope"},
                                headers=OPERATOR)
    assert (unknown.status_code, unknown.json()) == (404, {
        "message": "no catalogue service 'nope'", "field": "service", "rule": "a catalogue key"})


async def test_retention_routes_closing_a_case_starts_its_clock_for_its_holder_only(
        api: tuple[httpx.AsyncClient, Redis, StepClock]) -> None:
    http, oem, clock = api
    key = keys.case_key("inc-1")
    await _store(oem, key, "ecall_intelligent", new_vin(), T0)
    path = "/desks/callcentre/incidents/inc-1/close"
    assert (await http.post(path, headers=auth("psap", "BE"))).status_code == 403
    assert (await http.post(path)).status_code == 401
    clock.at = T0 + 3 * DAY
    closed = await http.post(path, headers=auth("callcentre"))
    assert closed.status_code == 200
    assert await oem.zscore("ret:due", key) == T0 + 3 * DAY
    assert (await http.post("/desks/callcentre/incidents/nope/close",
                            headers=OPERATOR)).status_code == 404
    assert (await http.get("/retention/report",
                           headers=auth("callcentre"))).status_code == 403
