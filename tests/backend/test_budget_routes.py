"""The budget routes over a real Redis, and ``telematics budgets`` rendering their answers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import typer
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis
from rich.console import Console
from typer.testing import CliRunner

from backend.api.routes.budgets import get_catalogue, router
from backend.privacy.budget_store import count_refused, meter
from cli.budgets import budgets, render
from cli.local_services import free_port
from protocols.catalogue_model import DAY
from tests.backend.support import StepClock, auth, new_vin, router_app, signer
from tests.backend.test_budget_meter import (
    CHARGE,
    ECALL,
    GB,
    RSU,
    TELESERVICE,
    UNSTATED,
    WORKSHOP_MAP,
)

T0 = 1_767_225_600.0
CATALOGUE = (CHARGE, ECALL, RSU, TELESERVICE, UNSTATED, WORKSHOP_MAP)
BUDGETED = {e.key for e in CATALOGUE if e.budget is not None}


@dataclass
class Api:
    http: httpx.AsyncClient
    oem: Redis
    clock: StepClock
    app: FastAPI


def build_app(oem: Redis, clock: StepClock) -> FastAPI:
    """Only the budget router, with the state the API's lifespan would provide."""
    app = router_app(router, state=SimpleNamespace(oem=oem, clock=clock))
    app.dependency_overrides[get_catalogue] = lambda: CATALOGUE
    return app


@pytest.fixture
async def api(redis_url: str) -> AsyncIterator[Api]:
    oem = Redis.from_url(redis_url, db=9)
    await oem.flushdb()
    clock = StepClock(T0 + 10)
    app = build_app(oem, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers=auth("operator")) as http:
        yield Api(http, oem, clock, app)
    await oem.aclose()


async def _traffic(oem: Redis, vin: str) -> None:
    await meter(oem, vin=vin, service="teleservice_call", size=50_000, at=T0, direction="up",
                entry=TELESERVICE)
    await meter(oem, vin=vin, service="teleservice_call", size=60_000, at=T0, direction="up",
                entry=TELESERVICE)
    await meter(oem, vin=vin, service="ecall_intelligent", size=1_500, at=T0, direction="up",
                entry=ECALL)
    await meter(oem, vin=vin, service="charge_management", size=20_000, at=T0, direction="down",
                entry=CHARGE)
    await meter(oem, vin=vin, service="rsu", size=10 * GB, at=T0, direction="down", entry=RSU)


async def test_budget_routes_catalogue_and_fleet(api: Api) -> None:
    """GET /budgets lists every budgeted entry with its figures, and the fleet's usage."""
    await _traffic(api.oem, new_vin())
    await _traffic(api.oem, new_vin())
    response = await api.http.get("/budgets")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(BUDGETED) and body["at"] == T0 + 10
    by_key = {b["key"]: b for b in body["budgets"]}
    assert set(by_key) == BUDGETED  # the entry without a figure is not a budget
    assert by_key["ecall_intelligent"] | {"source": ""} == {
        "key": "ecall_intelligent", "service": "Test", "sub_function": "ecall intelligent",
        "per": "message", "per_message_bytes": 1_000, "period_bytes": None, "period_s": None,
        "exclusive": True, "approx": False, "wording": "< 1 KB per eCall", "safety": True,
        "source": ""}
    assert by_key["workshop_map"]["period_s"] == 365 * DAY
    fleet = {s["key"]: s for s in body["fleet"]["services"]}
    assert body["fleet"]["vehicles"] == 2
    assert (fleet["teleservice_call"]["used_bytes"], fleet["teleservice_call"]["rejected"]) == (
        100_000, {"message_over_budget": 2})
    assert fleet["ecall_intelligent"]["flagged"] == {"message_over_budget": 2}
    assert (fleet["rsu"]["down_bytes"], fleet["rsu"]["vehicles"]) == (20 * GB, 2)
    assert fleet["charge_management"]["share_used"] == pytest.approx(0.4)


async def test_budget_routes_vehicle_usage_follows_the_backend_clock(api: Api) -> None:
    """GET /budgets/{vin} is judged at ``state.clock``: the next day starts from zero."""
    vin = new_vin()
    await _traffic(api.oem, vin)
    body = (await api.http.get(f"/budgets/{vin}")).json()
    rows = {s["key"]: s for s in body["services"]}
    assert body["vin"] == vin and set(rows) == BUDGETED
    charge = rows["charge_management"]
    assert (charge["used_bytes"], charge["down_bytes"], charge["period_bytes"],
            charge["share_used"], charge["period_start"]) == (
        20_000, 20_000, 50_000, pytest.approx(0.4), T0)
    assert rows["teleservice_call"]["rejected"] == {"message_over_budget": 1}
    assert rows["workshop_map"]["used_bytes"] == 0
    api.clock.at = T0 + DAY
    moved = {s["key"]: s for s in (await api.http.get(f"/budgets/{vin}")).json()["services"]}
    assert (moved["charge_management"]["used_bytes"],
            moved["charge_management"]["previous_bytes"]) == (0, 20_000)


async def test_budget_routes_unknown_vin_is_404(api: Api) -> None:
    """A VIN never metered is a 404 naming it; a malformed one a 422 naming the pattern."""
    vin = new_vin()
    missing = await api.http.get(f"/budgets/{vin}")
    assert missing.status_code == 404
    assert vin in missing.json()["message"]
    bad = await api.http.get("/budgets/not-a-vin")
    assert bad.status_code == 422
    assert (bad.json()["message"], bad.json()["field"]) == (
        "the path does not fit the schema", "vin")
    assert "[0-9A-HJ-NPR-Z]{17}" in bad.json()["rule"]


async def test_budget_routes_rendered_by_the_cli(api: Api) -> None:
    """The CLI's tables show the API's numbers: bounds, usage, shares, rejections, flags."""
    vin = new_vin()
    await _traffic(api.oem, vin)
    console = Console(record=True, width=250)
    render(console, (await api.http.get("/budgets")).json())
    render(console, (await api.http.get(f"/budgets/{vin}")).json())
    text = console.export_text()
    assert "catalogue budgets" in text and "fleet usage (1 vehicles)" in text
    assert f"budgets of {vin}" in text
    assert "< 1 KB/msg" in text and "~≤ 1.2 MB/year" in text and "≤ 10 GB/msg" in text
    assert "message_over_budget 1" in text  # the rejected Teleservice call
    assert "ecall_intelligent (safety)" in text
    assert "40.0%" in text  # 20 KB of Charge Management's "< 50 KB per day"


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(budgets)
    return app


async def test_budget_routes_cli_json_over_http(api: Api) -> None:
    """``budgets --vin V --json`` against a served API prints the route's JSON; the CLI
    signs in with ``--token``, ``$TELEMATICS_TOKEN`` or a token it signs with the local key."""
    vin = new_vin()
    await _traffic(api.oem, vin)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # connections queue here until the server accepts them: no waiting
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api.app, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke, _cli(), ["--vin", vin, "--json", "--api-url",
                                         f"http://127.0.0.1:{port}", "--token",
                                         signer().token("operator")])
        table = await asyncio.to_thread(
            CliRunner(env={"TELEMATICS_TOKEN": signer().token("operator")}).invoke, _cli(),
            ["--api", f"http://127.0.0.1:{port}"])
        missing = await asyncio.to_thread(
            CliRunner(env={"TELEMATICS_SIGNING_KEY": str(signer().keys.private)}).invoke,
            _cli(), ["--vin", new_vin(), "--api", f"http://127.0.0.1:{port}"])
        refused = await asyncio.to_thread(
            CliRunner(env={"TELEMATICS_SIGNING_KEY": "", "TELEMATICS_TOKEN": ""}).invoke,
            _cli(), ["--api", f"http://127.0.0.1:{port}", "--token", signer().token("psap", "BE")])
    finally:
        server.should_exit = True
        await serving
        sock.close()
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    rows = {s["key"]: s for s in data["services"]}
    assert data["vin"] == vin and rows["rsu"]["down_bytes"] == 10 * GB
    assert table.exit_code == 0 and "catalogue budgets" in table.stdout
    assert missing.exit_code == 1
    assert "404" in missing.stderr and "no message of this vehicle" in missing.stderr
    assert refused.exit_code == 1
    assert "HTTP 403: psap BE may not use data budgets: operator only" in refused.stderr


def test_budget_routes_cli_unreachable_api_exits_non_zero() -> None:
    """A closed loopback port: exit code 1 and a message naming the URL and what to do."""
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(_cli(), ["--api-url", url])
    assert result.exit_code == 1
    assert "cannot reach the backend API" in result.stderr
    assert url in result.stderr
    assert "TELEMATICS_API_URL" in result.stderr


async def test_budget_routes_serve_the_catalogue_rows(api: Api) -> None:
    """Without an override the routes read ``protocols.catalogue`` at request time."""
    from protocols.catalogue import CATALOGUE as ROWS

    api.app.dependency_overrides.clear()
    body = (await api.http.get("/budgets")).json()
    by_key = {b["key"]: b for b in body["budgets"]}
    assert set(by_key) == {e.key for e in ROWS if e.budget is not None}
    assert by_key["rsu"]["per_message_bytes"] == 10 * GB
    assert (by_key["workshop_map"]["period_bytes"], by_key["workshop_map"]["approx"]) == (
        1_200_000, True)
    assert by_key["ecall_legal"]["safety"] and by_key["hv_warn_call"]["safety"]


async def test_budget_routes_show_a_refusal_made_before_metering(api: Api) -> None:
    """A call the decoder refused for its size is in both views and the CLI's table, for
    a car that never got a message through."""
    vin = new_vin()
    await count_refused(api.oem, vin=vin, service="teleservice_call",
                        reason="message_over_budget", message=b"x" * 60_000)
    rows = {s["key"]: s for s in (await api.http.get(f"/budgets/{vin}")).json()["services"]}
    assert (rows["teleservice_call"]["rejected"], rows["teleservice_call"]["used_bytes"]) == (
        {"message_over_budget": 1}, 0)
    body = (await api.http.get("/budgets")).json()
    fleet = {s["key"]: s for s in body["fleet"]["services"]}
    assert fleet["teleservice_call"]["rejected"] == {"message_over_budget": 1}
    console = Console(record=True, width=250)
    render(console, body)
    assert "message_over_budget 1" in console.export_text()
