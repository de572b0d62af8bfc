"""The HTTP API over real lanes: desks, incidents, errors, and the MSD update request."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from backend.emergency.incidents import DeskStores, read_incident
from protocols.envelope import MsdRequest
from protocols.topics import msd_request_topic
from tests.backend.support import Car, Lanes, api_stack, auth, new_vin

# The caller, as its bearer token states it (backend.api.access).
OPERATOR = auth("operator")
PSAP_BE = auth("psap", "BE")


@pytest.fixture
async def api(mqtt_url: str, redis_url: str, psap_redis_url: str, psap_relay_redis_url: str
              ) -> AsyncIterator[tuple[Lanes, httpx.AsyncClient]]:
    async with api_stack(mqtt_url, redis_url, psap_redis_url=psap_redis_url,
                         psap_relay_redis_url=psap_relay_redis_url) as (lanes, base), \
            httpx.AsyncClient(base_url=base, timeout=5.0) as client:
        yield lanes, client


async def _until_present(client: httpx.AsyncClient, path: str,
                         headers: dict[str, str]) -> dict[str, object]:
    for _ in range(200):
        response = await client.get(path, headers=headers)
        if response.status_code == 200:
            body: dict[str, object] = response.json()
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


async def test_api_health_is_liveness_only(api: tuple[Lanes, httpx.AsyncClient]) -> None:
    """/health answers without a token and shows nothing but that the API is alive."""
    _, client = api
    response = await client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_api_health_detail_lists_lanes_and_counters_for_the_operator(
        api: tuple[Lanes, httpx.AsyncClient]) -> None:
    """/health/detail says Redis is up and which lanes are subscribed, to the operator only."""
    lanes, client = api
    assert (await client.get("/health/detail")).status_code == 401
    assert (await client.get("/health/detail", headers=PSAP_BE)).status_code == 403
    health = (await client.get("/health/detail", headers=OPERATOR)).json()
    assert health["status"] == "ok"
    assert f"emergency-{lanes.settings.worker_id}" in health["lanes"]
    assert set(health["counters"]) == {"metrics:ingest", "metrics:errors", "metrics:bulk",
                                       "metrics:desks"}
    # This fixture runs no services lane, so the platform is not ready for service calls.
    assert health["ready"] is False
    assert (await client.get("/ready")).status_code == 503


async def test_api_unknown_desk_and_incident_are_404(
        api: tuple[Lanes, httpx.AsyncClient]) -> None:
    """An unknown desk or incident is a 404 that names it."""
    _, client = api
    assert (await client.get("/desks/psap-XX/incidents", headers=OPERATOR)).status_code == 404
    missing = await client.get("/desks/psap-BE/incidents/nope", headers=PSAP_BE)
    assert missing.status_code == 404
    assert missing.json() == {"message": "no incident 'nope' at desk 'psap-BE'", "field": None,
                              "rule": None}


async def test_api_openapi_is_served(api: tuple[Lanes, httpx.AsyncClient]) -> None:
    """The OpenAPI document lists the desk routes."""
    _, client = api
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/desks/{desk}/incidents/{incident}/msd-request" in paths


async def _as_the_desk_holds_it(lanes: Lanes, desk: str, incident: str) -> object:
    """The incident as the store reads it, through JSON: what the route must show."""
    settings = lanes.settings
    async with Redis.from_url(settings.redis_url, db=settings.oem_db) as oem, \
            Redis.from_url(settings.psap_url, db=settings.psap_db) as psap:
        return json.loads(json.dumps(await read_incident(DeskStores(oem, psap), desk, incident)))


async def test_api_msd_request_reaches_the_car(
        api: tuple[Lanes, httpx.AsyncClient], mqtt_url: str) -> None:
    """A PSAP operator's update request goes down to the car that raised the incident."""
    lanes, client = api
    vin, incident = new_vin(), f"a-{uuid.uuid4().hex[:10]}"
    async with Car(mqtt_url, vin, topics=[msd_request_topic(vin)]) as car:
        car.send("legal", incident)
        await car.ack()
        record = await _until_present(client, f"/desks/psap-BE/incidents/{incident}", PSAP_BE)
        assert record["variant"] == "legal"
        assert record == await _as_the_desk_holds_it(lanes, "psap-BE", incident)
        listed = (await client.get("/desks/psap-BE/incidents", headers=PSAP_BE)).json()
        assert incident in [i["incident"] for i in listed["data"]]
        response = await client.post(f"/desks/psap-BE/incidents/{incident}/msd-request",
                                     headers=PSAP_BE)
        assert response.status_code == 202
        request = await car.next()
    assert isinstance(request, MsdRequest)
    assert (request.incident, request.requested_by) == (incident, "psap-BE")
    assert lanes.settings.psap_db != lanes.settings.oem_db


async def test_api_vehicle_profile_carries_the_contact_the_call_centre_adds(
        api: tuple[Lanes, httpx.AsyncClient]) -> None:
    """HV-R2: the customer's contact is part of the profile; a malformed phone is refused."""
    _, client = api
    vin = new_vin()
    base = {"home_country": "BE", "home_lat": 51.22, "home_lon": 4.40}
    contact = {"name": "Sofie Janssens", "phone": "+32 478 55 01 23", "language": "nl"}
    put = await client.put(f"/vehicles/{vin}/profile", json={**base, "contact": contact},
                           headers=OPERATOR)
    assert put.status_code == 204
    refused = await client.put(f"/vehicles/{vin}/profile",
                               json={**base, "contact": {**contact, "phone": "call me"}},
                               headers=OPERATOR)
    assert refused.status_code == 422
    shown = (await client.get(f"/vehicles/{vin}/profile", headers=OPERATOR)).json()
    assert shown["contact"] == contact


async def test_api_vehicle_profile_keeps_partner_changes(
        api: tuple[Lanes, httpx.AsyncClient]) -> None:
    """A change of preferred service partner is recorded; an unknown partner is refused."""
    _, client = api
    vin = new_vin()
    base = {"home_country": "BE", "home_lat": 51.22, "home_lon": 4.40}
    for partner in ("sp-be-ant", "sp-be-bru"):
        put = await client.put(f"/vehicles/{vin}/profile",
                               json={**base, "preferred_partner": partner}, headers=OPERATOR)
        assert put.status_code == 204
    history = (await client.get(f"/vehicles/{vin}/preferred-partner/history",
                                headers=OPERATOR)).json()
    assert [(h["from"], h["to"]) for h in history["data"]] == [("sp-be-ant", "sp-be-bru"),
                                                              (None, "sp-be-ant")]
    refused = await client.put(f"/vehicles/{vin}/profile",
                               json={**base, "preferred_partner": "sp-xx-nowhere"},
                               headers=OPERATOR)
    assert refused.status_code == 422
    assert (await client.get(f"/vehicles/{vin}/profile", headers=OPERATOR)).json()[
        "preferred_partner"] == "sp-be-bru"
    assert (await client.get("/assistance/cases/none", headers=OPERATOR)).status_code == 404
