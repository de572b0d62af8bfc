"""How the API fails: bounded query parameters, one error body ``{message, field, rule}``
for every failure, 503 while Redis is down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from backend.api.app import create_app
from backend.api.schemas.error_body import ErrorPublic
from cli.local_services import free_port
from tests.backend.support import asgi_client, auth, signer

LISTS = ("/desks/callcentre/incidents", "/partners/sp-be-ant/cases", "/assistance/cases")


@asynccontextmanager
async def _app(mqtt_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(signer().settings(mqtt_url=mqtt_url, redis_url=redis_url, oem_db=14,
                                       psap_db=15, worker_id=uuid.uuid4().hex[:8]))
    async with asgi_client(app, headers=auth("operator")) as client:
        yield client


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", ["0", "1001", str(2**64), "-1", "many"])
async def test_api_errors_list_limit_is_bounded(mqtt_url: str, redis_url: str, path: str,
                                          limit: str) -> None:
    """``limit`` outside 1..1000 (or past 64 bits) is a 422 naming it, never a 500."""
    async with _app(mqtt_url, redis_url) as client:
        response = await client.get(path, params={"limit": limit})
    assert response.status_code == 422, response.text
    body = ErrorPublic.model_validate(response.json())
    assert (body.message, body.field) == ("the query does not fit the schema", "limit")
    assert body.rule


async def test_api_errors_every_failure_has_the_one_body(mqtt_url: str, redis_url: str) -> None:
    """A typo'd query parameter, a body that is no JSON, a body that breaks the schema, a
    path or method that does not exist: the same three keys, naming what they can."""
    async with _app(mqtt_url, redis_url) as client:
        typo = await client.get("/assistance/cases", params={"limt": "5"})
        not_json = await client.post("/ota/campaigns", content=b"{nope",
                                     headers={"content-type": "application/json"})
        wrong = await client.post("/ota/campaigns", json={"campaign_id": "c", "groups": 1})
        no_path = await client.get("/nope")
        no_method = await client.delete("/desks")
    assert (typo.status_code, typo.json()) == (422, {
        "message": "unknown query parameter 'limt'", "field": "limt", "rule": "one of: limit"})
    assert (not_json.status_code, not_json.json()["message"], not_json.json()["field"]) == (
        422, "the body does not fit the schema", None)
    assert not_json.json()["rule"].startswith("JSON: ")
    assert wrong.status_code == 422
    assert wrong.json()["message"].startswith("the body does not fit the schema (")
    assert wrong.json()["field"] in ("version", "size_bytes", "groups")
    assert (no_path.status_code, no_path.json()) == (
        404, {"message": "Not Found", "field": None, "rule": None})
    assert (no_method.status_code, no_method.json()["message"]) == (405, "Method Not Allowed")


async def test_api_errors_redis_outage_is_503(mqtt_url: str) -> None:
    """With Redis unreachable, a route that reads it answers 503 with Retry-After."""
    unreachable = f"redis://127.0.0.1:{free_port()}"
    async with _app(mqtt_url, unreachable) as client:
        for path in ("/desks/callcentre/incidents", "/retention/report",
                     "/assistance/cases", "/partners/sp-be-ant/cases", "/ota/campaigns"):
            response = await client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["retry-after"] == "1"
            assert response.json() == {
                "message": "Redis unavailable (ConnectionError); retry later",
                "field": None, "rule": None}
        assert (await client.get("/health")).json() == {"status": "ok"}


def test_api_errors_every_status_is_documented_with_one_body() -> None:
    """Each guarded operation documents 401, 403, 422 and 503, all with ``ErrorPublic``;
    routes that look a record up document 404."""
    document = create_app(signer().settings()).openapi()
    error_ref = "#/components/schemas/ErrorPublic"
    for path, operations in document["paths"].items():
        if path in ("/health", "/ready"):
            continue
        for method, operation in operations.items():
            responses: dict[str, Any] = operation["responses"]
            assert {"401", "403", "422", "503"} <= set(responses), (method, path)
            for code, answer in responses.items():
                if code.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": error_ref}, (method, path, code)
    lookups = ("/desks/{desk}/incidents/{incident}", "/partners/{partner_id}/cases/{case_id}",
               "/assistance/cases/{request_id}", "/ota/campaigns/{campaign_id}",
               "/budgets/{vin}", "/vehicles/{vin}/profile", "/vehicles/{vin}/facts")
    assert all("404" in document["paths"][p]["get"]["responses"] for p in lookups)
