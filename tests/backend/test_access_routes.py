"""Data sharing enforced in the API: every role asks for what it must not see, and gets 403.

The real app on real Redis and Mosquitto: an Intelligent eCall goes through the lanes to
the call centre and its handover to psap-BE; maintenance cases, Teleservice calls,
profiles and an assistance case are written through their stores. Then each role asks
for every resource; what it may have answers 200 with the right content, the rest 403
with a detail naming the role, and lists show only the caller's items. Every caller
is named by a bearer token only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from redis.asyncio import Redis

from backend.api.access_deps import operator_only
from backend.api.app import create_app
from backend.assistance.desk import decide_case
from backend.assistance.store import save_case
from backend.emergency.incidents import all_desks
from backend.services.maintenance import MaintenanceNeed
from backend.services.maintenance_store import open_case, record_call
from backend.services.partners import DIRECTORY
from backend.services.vehicle_registry import VehicleProfile, save_profile
from protocols.assistance import AssistanceCall
from protocols.msd.codec import encode_msd
from protocols.teleservice import TeleserviceCall
from tests.backend.support import Car, api_stack, auth, make_msd, new_vin, signer
from vehicle_sim.api_role import bearer

OWN, OTHER = "sp-be-ant", "sp-be-bru"
T = 1_767_225_600  # a multiple of five minutes
ECALL_LAT, ECALL_LON = 50.12345, 4.98765  # near Beauraing, Belgium: psap-BE
# Each role's bearer token (signed with the tests' key pair, ``support.signer``).
HEADERS: dict[str, dict[str, str]] = {
    "operator": auth("operator"),
    "callcentre": auth("callcentre"),
    "psap": auth("psap", "BE"),
    "partner": auth("partner", OWN),
    "assistance": auth("assistance"),
    "traffic": auth("traffic"),
}
CALLER_NAME = {"operator": "operator", "callcentre": "callcentre", "psap": "psap BE",
               "partner": f"partner {OWN}", "assistance": "assistance", "traffic": "traffic"}


@dataclass
class World:
    """What was seeded, and a client on the running API."""

    http: httpx.AsyncClient
    oem: Redis
    ecall_vin: str
    incident: str
    case_vin: str  # a Teleservice call and a case at OWN
    case_id: str
    pref_vin: str  # a Teleservice call; OWN is the preferred partner
    other_vin: str  # a Teleservice call and a case at OTHER, OTHER preferred
    other_case_id: str
    put_vin: str
    assist_vin: str
    request_id: str


def _teleservice(vin: str) -> TeleserviceCall:
    return TeleserviceCall(vin=vin, call_id=f"c-{uuid.uuid4().hex[:8]}",
                           reason="interval_28d", odometer_km=12_000.0, sent_ns=1,
                           at=float(T), propulsion="petrol")


def _need(vin: str) -> MaintenanceNeed:
    return MaintenanceNeed(vin, "c-1", "teleservice", "service_need", ("P0300",), (),
                           12_000.0, float(T))


def _assistance_call(vin: str, request_id: str) -> AssistanceCall:
    return AssistanceCall(vin=vin, request_id=request_id, kind="breakdown", channel="car",
                          customer_confirmed=False, lat=50.6326, lon=5.5797,
                          vehicle_status={"fault_codes": ["P0A80"], "warning_lamps": [],
                                          "drivable": False, "soc_pct": 40.0},
                          movement={"speed_kmh": 0.0, "heading_deg": 10.0,
                                    "odometer_km": 1000.0},
                          at=float(T), sent_ns=1)


async def _until_ok(http: httpx.AsyncClient, path: str) -> None:
    """Wait, as the operator, until the lanes have written what ``path`` reads."""
    for _ in range(250):
        if (await http.get(path, headers=HEADERS["operator"])).status_code == 200:
            return
        await asyncio.sleep(0.02)  # polling interval of a desk screen
    raise AssertionError(f"{path} never appeared")


async def _seed(http: httpx.AsyncClient, oem: Redis, mqtt_url: str) -> World:
    ecall_vin, incident = new_vin(), f"acc-{uuid.uuid4().hex[:10]}"
    msd = make_msd(ecall_vin, lat=ECALL_LAT, lon=ECALL_LON, timestamp=T + 437)
    async with Car(mqtt_url, ecall_vin) as car:
        car.send("intelligent", incident, msd=encode_msd(msd))
        await car.ack()
    await _until_ok(http, f"/desks/callcentre/incidents/{incident}")
    await _until_ok(http, f"/desks/psap-BE/incidents/{incident}")

    case_vin, pref_vin, other_vin = new_vin(), new_vin(), new_vin()
    case_id, other_case_id = f"case-{uuid.uuid4().hex[:10]}", f"case-{uuid.uuid4().hex[:10]}"
    for vin in (case_vin, pref_vin, other_vin):
        await record_call(oem, _teleservice(vin))
    await open_case(oem, _need(case_vin), case_id=case_id, partner_id=OWN, now=float(T))
    await open_case(oem, _need(other_vin), case_id=other_case_id, partner_id=OTHER,
                    now=float(T))
    def home(partner: str | None = None) -> VehicleProfile:
        return VehicleProfile(home_country="BE", home_lat=51.22, home_lon=4.40,
                              preferred_partner=partner)

    await save_profile(oem, pref_vin, home(OWN), now=float(T))
    await save_profile(oem, other_vin, home(OTHER), now=float(T))

    assist_vin, request_id = new_vin(), f"req-{uuid.uuid4().hex[:10]}"
    await save_case(oem, decide_case(_assistance_call(assist_vin, request_id),
                                     home().policy(), now=float(T)))
    return World(http, oem, ecall_vin, incident, case_vin, case_id, pref_vin, other_vin,
                 other_case_id, new_vin(), assist_vin, request_id)


@pytest.fixture
async def world(mqtt_url: str, redis_url: str, psap_redis_url: str,
                psap_relay_redis_url: str) -> AsyncIterator[World]:
    async with api_stack(mqtt_url, redis_url, psap_redis_url=psap_redis_url,
                         psap_relay_redis_url=psap_relay_redis_url) as (lanes, base):
        oem = Redis.from_url(redis_url, db=lanes.settings.oem_db)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5.0) as http:
                yield await _seed(http, oem, mqtt_url)
        finally:
            await oem.aclose()


@dataclass(frozen=True)
class Ask:
    """One request, and the roles that may make it (and with which status)."""

    method: str
    path: str
    allowed: frozenset[str]
    ok: int = 200
    body: dict[str, object] | None = None


def _asks(w: World) -> list[Ask]:
    def ask(method: str, path: str, *roles: str, ok: int = 200,
            body: dict[str, object] | None = None) -> Ask:
        return Ask(method, path, frozenset({"operator", *roles}), ok, body)

    inc = w.incident
    return [
        ask("GET", "/desks", "callcentre", "psap"),
        ask("GET", "/desks/callcentre/incidents", "callcentre"),
        ask("GET", f"/desks/callcentre/incidents/{inc}", "callcentre"),
        ask("POST", f"/desks/callcentre/incidents/{inc}/msd-request", "callcentre", ok=202),
        ask("GET", "/desks/psap-BE/incidents", "psap"),
        ask("GET", f"/desks/psap-BE/incidents/{inc}", "psap"),
        ask("POST", f"/desks/psap-BE/incidents/{inc}/msd-request", "psap", ok=202),
        ask("GET", "/desks/psap-NL/incidents"),
        ask("POST", f"/desks/psap-NL/incidents/{inc}/msd-request", ok=404),
        ask("GET", "/partners", "partner", "assistance"),
        ask("GET", f"/partners/{OWN}/cases", "partner"),
        ask("GET", f"/partners/{OWN}/cases/{w.case_id}", "partner"),
        ask("GET", f"/partners/{OTHER}/cases"),
        ask("GET", f"/partners/{OTHER}/cases/{w.other_case_id}"),
        ask("POST", f"/partners/{OTHER}/cases/{w.other_case_id}/close", ok=409),
        ask("GET", f"/vehicles/{w.case_vin}/teleservice-calls", "partner"),
        ask("GET", f"/vehicles/{w.pref_vin}/teleservice-calls", "partner"),
        ask("GET", f"/vehicles/{w.other_vin}/teleservice-calls"),
        ask("GET", f"/vehicles/{w.pref_vin}/profile", "callcentre"),
        ask("PUT", f"/vehicles/{w.put_vin}/profile", ok=204,
            body={"home_country": "BE", "home_lat": 50.0, "home_lon": 4.0}),
        ask("GET", f"/vehicles/{w.pref_vin}/preferred-partner/history"),
        ask("GET", "/assistance/cases", "assistance"),
        ask("GET", f"/assistance/cases/{w.request_id}", "assistance"),
        ask("POST", f"/assistance/cases/{w.request_id}/assessment", "assistance",
            body={"repair_working_days": 2}),
        ask("GET", "/traffic/warnings", "traffic"),
    ]


@pytest.mark.parametrize("role", list(HEADERS))
async def test_access_routes_each_role_gets_only_its_share(world: World, role: str) -> None:
    """Every route, asked by ``role``: 2xx where granted, else 403 naming role and rule."""
    for ask in _asks(world):
        response = await world.http.request(ask.method, ask.path, headers=HEADERS[role],
                                            json=ask.body)
        where = f"{role} {ask.method} {ask.path}: {response.text}"
        if role in ask.allowed:
            assert response.status_code == ask.ok, where
        else:
            assert response.status_code == 403, where
            assert response.json()["message"].startswith(f"{CALLER_NAME[role]} may"), where


async def test_access_routes_another_party_of_the_same_role_is_refused(world: World) -> None:
    """Object-level checks come from the token's party: psap NL cannot read psap BE's
    incident or ask its car for an MSD; partner OTHER cannot read OWN's case or the calls
    of OWN's car, and sees only itself in the directory."""
    http, inc = world.http, world.incident
    psap_nl, partner_other = auth("psap", "NL"), auth("partner", OTHER)
    for method, path in (("GET", "/desks/psap-BE/incidents"),
                         ("GET", f"/desks/psap-BE/incidents/{inc}"),
                         ("POST", f"/desks/psap-BE/incidents/{inc}/msd-request")):
        refused = await http.request(method, path, headers=psap_nl)
        assert (refused.status_code, refused.json()["message"]) == (
            403, f"psap NL may {'request MSD updates at' if method == 'POST' else 'read'} "
                 "only desk psap-NL"), path
    assert (await http.get("/desks", headers=psap_nl)).json()["data"] == ["psap-NL"]
    for path in (f"/partners/{OWN}/cases", f"/partners/{OWN}/cases/{world.case_id}",
                 f"/vehicles/{world.case_vin}/teleservice-calls",
                 f"/vehicles/{world.pref_vin}/teleservice-calls"):
        refused = await http.get(path, headers=partner_other)
        assert refused.status_code == 403, path
        assert refused.json()["message"].startswith(f"partner {OTHER} may"), path
    own = await http.get(f"/vehicles/{world.other_vin}/teleservice-calls",
                         headers=partner_other)
    assert (own.status_code, own.json()["vin"]) == (200, world.other_vin)
    listed = (await http.get("/partners", headers=partner_other)).json()["data"]
    assert [p["id"] for p in listed] == [OTHER]


async def test_access_routes_lists_are_filtered(world: World) -> None:
    """/desks and /partners list only what the caller works with."""
    http = world.http

    async def get(path: str, role: str) -> dict[str, Any]:
        response = await http.get(path, headers=HEADERS[role])
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert (await get("/desks", "operator"))["data"] == all_desks()
    assert (await get("/desks", "psap"))["data"] == ["psap-BE"]
    assert (await get("/desks", "callcentre"))["data"] == ["callcentre"]
    assert [p["id"] for p in (await get("/partners", "partner"))["data"]] == [OWN]
    assert (await get("/partners", "assistance"))["count"] == len(DIRECTORY)
    own = await get(f"/partners/{OWN}/cases", "partner")
    ids = {c["case_id"] for c in own["data"]}
    assert world.case_id in ids
    assert world.other_case_id not in ids


async def test_access_routes_content_of_each_share(world: World) -> None:
    """The PSAP gets the MSD through the handover, the call centre its case, a partner the
    calls of its cars, the assistance desk its case."""
    http, inc = world.http, world.incident
    psap = (await http.get(f"/desks/psap-BE/incidents/{inc}", headers=HEADERS["psap"])).json()
    assert (psap["incident"], psap["via"], psap["kind"]) == (inc, "callcentre", "handover")
    assert psap["msd"]["msdStructure"]["vehicleLocation"]["positionLatitude"] == round(
        ECALL_LAT * 3_600_000)
    case = (await http.get(f"/desks/callcentre/incidents/{inc}",
                           headers=HEADERS["callcentre"])).json()
    assert (case["vin"], case["psap"]) == (world.ecall_vin, "psap-BE")
    calls = (await http.get(f"/vehicles/{world.case_vin}/teleservice-calls",
                            headers=HEADERS["partner"])).json()
    assert (calls["vin"], calls["count"]) == (world.case_vin, 1)
    assisted = (await http.get(f"/assistance/cases/{world.request_id}",
                               headers=HEADERS["assistance"])).json()
    assert (assisted["vin"], assisted["kind"]) == (world.assist_vin, "breakdown")


async def test_access_routes_traffic_warnings_are_anonymous(world: World) -> None:
    """The eCall shows as a coarse warning; no VIN, incident, case or request id anywhere."""
    response = await world.http.get("/traffic/warnings", params={"limit": 1000},
                                    headers=HEADERS["traffic"])
    assert response.status_code == 200
    body, text = response.json(), response.text
    assert (body["position_decimals"], body["time_bucket_s"]) == (2, 300)
    assert {"event": "accident", "lat": 50.12, "lon": 4.99, "at": T + 300} in body["data"]
    for secret in (world.ecall_vin, world.incident, world.assist_vin, world.request_id,
                   "msd", "vin", "incident", "occupants"):
        assert secret not in text
    for warning in body["data"]:
        assert set(warning) == {"event", "lat", "lon", "at"}
        assert warning["lat"] == round(warning["lat"], 2)
        assert warning["lon"] == round(warning["lon"], 2)
        assert warning["at"] % 300 == 0
    # The assistance breakdown (its row names no traffic providers) gives no warning.
    assert not any((w["lat"], w["lon"]) == (50.63, 5.58) for w in body["data"])


async def test_access_routes_who_is_calling(world: World) -> None:
    """No token, or one naming no role or a party that does not fit it, is a 401 with the
    Bearer challenge naming the claim; health and docs need no token."""
    http = world.http
    response = await http.get("/desks")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "missing bearer token" in response.json()["message"]
    for role, party, claim in (("", "", "role"), ("admin", "", "role"), ("psap", "", "party"),
                               ("psap", "psap-BE", "party"), ("partner", "sp-nope", "party"),
                               ("operator", "BE", "party")):
        token = signer().token(role, party)
        response = await http.get("/desks", headers=bearer(token))
        assert response.status_code == 401, (role, party)
        assert f"claim {claim}" in response.json()["message"], response.text
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert (await http.get("/traffic/warnings")).status_code == 401
    for path in ("/health", "/openapi.json", "/docs"):
        assert (await http.get(path)).status_code == 200, path
    assert (await http.get("/ready")).status_code == 503  # no services lane here


async def test_access_routes_role_headers_are_not_trusted(world: World) -> None:
    """X-Role / X-Party alone, forged or duplicated, are 401; beside a token they change
    nothing; two Authorization headers are 401 whichever comes first."""
    http = world.http
    forged = [("X-Role", "operator")], [("X-Role", "psap"), ("X-Party", "BE")], [
        ("X-Role", "operator"), ("X-Role", "psap"), ("X-Party", "BE")]
    for headers in forged:
        for path in ("/desks", f"/desks/psap-BE/incidents/{world.incident}",
                     "/retention/report", f"/vehicles/{world.pref_vin}/profile"):
            response = await http.get(path, headers=headers)
            assert response.status_code == 401, (headers, path)
    as_traffic = [*bearer(signer().token("traffic")).items(), ("X-Role", "operator")]
    refused = await http.get("/desks", headers=as_traffic)
    assert (refused.status_code, refused.json()["message"]) == (
        403, "traffic may read no eCall desk "
        "(PLAT-R3: hv_warn_call, ecall_intelligent, ecall_legal)")
    twice = [*bearer(signer().token("operator")).items(),
             *bearer(signer().token("traffic")).items()]
    for headers in (twice, list(reversed(twice))):
        response = await http.get("/desks", headers=headers)
        assert response.status_code == 401
        assert "more than one Authorization header" in response.json()["message"]


OPEN = frozenset({"/health", "/ready"})


def test_access_routes_every_route_asks_who_is_calling() -> None:
    """No operation but health and readiness answers without a caller: each one declares
    the bearer scheme (the security ``CallerDep`` adds) and documents 401 and 403, as its
    OpenAPI entry shows; none takes an X-Role header."""
    app = create_app(signer().settings(worker_id=uuid.uuid4().hex[:8]))
    document = app.openapi()
    paths: dict[str, dict[str, Any]] = document["paths"]
    unguarded = sorted(
        f"{method.upper()} {path}" for path, operations in paths.items()
        for method, operation in operations.items()
        if path not in OPEN
        and not ({"bearer": []} in operation.get("security", [])
                 and {"401", "403"} <= set(operation["responses"])))
    assert unguarded == []
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearer"]["description"]}
    assert "/traffic/warnings" in paths
    assert not any("security" in paths[path]["get"] for path in OPEN)
    assert not any(p.get("name") in ("X-Role", "X-Party")
                   for operations in paths.values() for operation in operations.values()
                   for p in operation.get("parameters", []))


async def test_access_routes_operator_only_guards_a_whole_router() -> None:
    """``operator_only`` as a router dependency: 401 without a token, 403 for any other role."""
    guarded = APIRouter(prefix="/ops", dependencies=[Depends(operator_only("OTA campaigns"))])

    @guarded.get("/thing")
    async def read_thing() -> dict[str, str]:
        return {"thing": "ok"}

    app = signer().install(FastAPI())
    app.include_router(guarded)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/ops/thing")).status_code == 401
        assert (await http.get("/ops/thing", headers=HEADERS["operator"])).json() == {
            "thing": "ok"}
        for role in ("callcentre", "psap", "partner", "assistance", "traffic"):
            refused = await http.get("/ops/thing", headers=HEADERS[role])
            assert (refused.status_code, refused.json()["message"]) == (
                403, f"{CALLER_NAME[role]} may not use OTA campaigns: operator only")
