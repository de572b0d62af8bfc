"""The OTA HTTP API over the real API role: targeting, spec errors, transitions, commands."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.backend.support import new_vin
from tests.backend.test_ota_lane import (
    SIZE,
    VERSION,
    OtaCars,
    campaign_body,
    fresh_id,
    ota_stack,
    register,
)

GROUPS: list[dict[str, Any]] = [{"name": "all", "share": 1.0}]


@pytest.fixture
async def api(mqtt_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with ota_stack(mqtt_url, redis_url) as client:
        yield client


def _model() -> str:
    return f"m-{uuid.uuid4().hex[:8]}"


async def _create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/ota/campaigns", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _vins_of(api: httpx.AsyncClient, campaign_id: str) -> list[str]:
    listed = (await api.get(f"/ota/campaigns/{campaign_id}/vehicles")).json()
    return [v["vin"] for v in listed["data"]]


async def test_ota_routes_target_by_model_propulsion_os_and_country(
        api: httpx.AsyncClient) -> None:
    """Every criterion must hold, and a car below OS 9 is never targeted (OTA-R1)."""
    model = _model()
    match, combustion, old_os, dutch, newest = (new_vin() for _ in range(5))
    await register(api, [match], model=model, os_version=10)
    await register(api, [combustion], model=model, propulsion="ice", os_version=10)
    await register(api, [old_os], model=model, os_version=8)
    await register(api, [dutch], model=model, os_version=11, country="NL")
    await register(api, [newest], model=model, os_version=12)
    await register(api, [new_vin()], model=_model(), os_version=10)  # another model
    target = {"models": [model], "propulsions": ["bev"], "min_os": 9, "max_os": 11,
              "countries": ["BE"]}
    created = await _create(api, campaign_body(fresh_id(), model, GROUPS, target=target,
                                               start=False))
    assert (created["status"], created["vehicles"], created["target"]) == (
        "planned", 1, {**target, "vins": []})
    assert await _vins_of(api, created["campaign_id"]) == [match]

    by_vin = await _create(api, campaign_body(fresh_id(), model, GROUPS, start=False,
                                              target={"vins": [combustion, old_os]}))
    assert await _vins_of(api, by_vin["campaign_id"]) == [combustion]  # OS 8 stays out
    assert (await api.get(f"/vehicles/{old_os}/facts")).json() == {
        "vin": old_os, "model": model, "propulsion": "bev", "os_version": 8, "country": "BE"}


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"size_bytes": 11 * 10**9}, "size_bytes", "1 GB <= size <= 10 GB (OTA-R1)"),
    ({"size_bytes": 999_999_999}, "size_bytes", "1 GB <= size <= 10 GB (OTA-R1)"),
    ({"groups": [{"name": "g", "share": 0.5, "size": 3}]}, "groups['g'].share",
     "exactly one of share and size"),
    ({"groups": [{"name": "g", "share": 1.0, "error_threshold": 1.5}]},
     "groups['g'].error_threshold", "0 <= threshold <= 1"),
    ({"groups": []}, "groups", "at least one group"),
    ({"target": {"min_os": 11, "max_os": 9}}, "target.min_os", "min_os <= max_os"),
    ({"action_timeout_s": 10}, "action_timeout_s", "60 s <= timeout <= 7 days"),
    ({"release_notes": "é" * 8_000}, "release_notes",
     "at most 16,000 bytes per OTA offer (contract bound; §15 sets none)"),
])
async def test_ota_routes_spec_errors_name_field_and_rule(
        api: httpx.AsyncClient, change: dict[str, Any], field: str, rule: str) -> None:
    """A wrong campaign is 422 naming the field and the rule, and nothing is stored."""
    body = {**campaign_body(fresh_id(), _model(), GROUPS), **change}
    response = await api.post("/ota/campaigns", json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert (error["field"], error["rule"]) == (field, rule)
    assert (await api.get(f"/ota/campaigns/{body['campaign_id']}")).status_code == 404


async def test_ota_routes_body_is_strict(api: httpx.AsyncClient) -> None:
    """Unknown fields, an unknown propulsion or a bad campaign id are refused."""
    base = campaign_body(fresh_id(), _model(), GROUPS)
    for body in ({**base, "bogus": 1}, {**base, "target": {"propulsions": ["steam"]}},
                 {**base, "campaign_id": "has space"}):
        assert (await api.post("/ota/campaigns", json=body)).status_code == 422


async def test_ota_routes_same_id_is_idempotent_else_conflict(api: httpx.AsyncClient) -> None:
    """Posting the same campaign again is 200 with its state; another spec is 409."""
    body = campaign_body(fresh_id(), _model(), GROUPS, start=False)
    await _create(api, body)
    again = await api.post("/ota/campaigns", json=body)
    assert again.status_code == 200
    assert again.json()["status"] == "planned"
    for change in ({"version": "99-01.0"}, {"release_notes": "other"}):
        other = await api.post("/ota/campaigns", json={**body, **change})
        assert other.status_code == 409
        assert other.json() == {
            "message": f"campaign {body['campaign_id']!r} exists with another spec",
            "field": "campaign_id", "rule": "a campaign id is created once"}


async def test_ota_routes_transitions_and_unknowns(api: httpx.AsyncClient) -> None:
    """Unknown ids are 404; moves against the life cycle are 409 with the rule."""
    missing = fresh_id()
    assert (await api.get(f"/ota/campaigns/{missing}")).status_code == 404
    assert (await api.get(f"/ota/campaigns/{missing}/vehicles")).status_code == 404
    assert (await api.post(f"/ota/campaigns/{missing}/pause")).status_code == 404

    model = _model()
    vin = new_vin()
    await register(api, [vin], model=model)
    campaign_id = (await _create(api, campaign_body(fresh_id(), model, GROUPS,
                                                    start=False)))["campaign_id"]
    paused = await api.post(f"/ota/campaigns/{campaign_id}/pause")
    assert paused.status_code == 409
    assert paused.json()["rule"] == "pause only from running"
    started = await api.post(f"/ota/campaigns/{campaign_id}/start")
    assert (started.status_code, started.json()["status"]) == (200, "running")
    again = await api.post(f"/ota/campaigns/{campaign_id}/start")
    assert again.json()["rule"] == "start only from planned"
    assert (await api.post(f"/ota/campaigns/{campaign_id}/pause")).json()["status"] == "paused"
    listed = (await api.get("/ota/campaigns", params={"status": "paused"})).json()
    assert campaign_id in [c["campaign_id"] for c in listed["data"]]
    assert all(c["status"] == "paused" for c in listed["data"])
    one = (await api.get(f"/ota/campaigns/{campaign_id}/vehicles/{vin}")).json()
    assert (one["status"], one["group"], one["car"]) == ("offered", "all", None)
    assert (await api.get(
        f"/ota/campaigns/{campaign_id}/vehicles/{new_vin()}")).status_code == 404


async def test_ota_routes_app_confirm_goes_down_to_the_car(
        api: httpx.AsyncClient, mqtt_url: str) -> None:
    """The customer's confirmation from the app reaches the car as an OtaCommand by app."""
    model, vin = _model(), new_vin()
    await register(api, [vin], model=model)
    campaign_id = (await _create(api, campaign_body(fresh_id(), model, GROUPS)))["campaign_id"]
    async with OtaCars(mqtt_url, [vin]) as downlink:
        sent = await api.post(f"/vehicles/{vin}/ota/command",
                              json={"campaign_id": campaign_id, "action": "confirm"})
        assert sent.status_code == 202, sent.text
        await downlink.wait_for(lambda: bool(downlink.commands([vin])), what="confirm")
    [(got_vin, command)] = downlink.commands([vin])
    assert (got_vin, command.campaign_id, command.action, command.by) == (
        vin, campaign_id, "confirm", "app")
    history = (await api.get(f"/vehicles/{vin}/ota")).json()
    assert (history["current"], history["events"]) == (None, [])  # no report from the car
    assert [(e["kind"], e.get("action"), e.get("by"))
            for e in history["sent"]] == [("offer", None, None), ("command", "confirm", "app")]
    assert (history["sent"][0]["size_bytes"], history["sent"][0]["version"]) == (SIZE, VERSION)

    outsider = new_vin()
    assert (await api.post(f"/vehicles/{outsider}/ota/command", json={
        "campaign_id": campaign_id, "action": "confirm"})).status_code == 404
    assert (await api.post(f"/vehicles/{vin}/ota/command", json={
        "campaign_id": fresh_id(), "action": "confirm"})).status_code == 404
    assert (await api.post(f"/vehicles/{vin}/ota/command", json={
        "campaign_id": campaign_id, "action": "install_now"})).status_code == 422


async def test_ota_routes_facts_are_validated(api: httpx.AsyncClient) -> None:
    """Facts need a real VIN, a known propulsion, OS 1..99 and a country code."""
    vin = new_vin()
    assert (await api.get(f"/vehicles/{vin}/facts")).status_code == 404
    good = {"model": "cooper_se", "propulsion": "bev", "os_version": 9, "country": "BE"}
    for path, body in ((f"/vehicles/{vin[:-1]}O/facts", good),
                       (f"/vehicles/{vin}/facts", {**good, "propulsion": "BEV"}),
                       (f"/vehicles/{vin}/facts", {**good, "os_version": 0}),
                       (f"/vehicles/{vin}/facts", {**good, "country": "be"}),
                       (f"/vehicles/{vin}/facts", {**good, "colour": "red"})):
        assert (await api.put(path, json=body)).status_code == 422, body
    assert (await api.put(f"/vehicles/{vin}/facts", json=good)).status_code == 204
    assert (await api.get(f"/vehicles/{vin}/facts")).json()["model"] == "cooper_se"
