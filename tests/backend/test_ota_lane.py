"""OTA campaigns over the real lanes: offers go down, car events move the campaign.

The services role and the API run in the test's event loop against the session's
Mosquitto and Redis; cars are bare MQTT clients publishing ``OtaEvent`` records. The
action timeout is driven through a ``ServicesDesk`` whose clock follows announcements
the test makes, so "a day later" needs no waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from redis.asyncio import Redis

from backend.infra import keys
from backend.infra.counters import Counters
from backend.ota.campaign import (
    CampaignSpec,
    RolloutGroup,
    TargetSelector,
    plan,
    progress,
    start,
)
from backend.ota.lane import OtaDesk, events_key, report_of, state_key, vehicle_ota
from backend.ota.store import create_campaign, load_campaign
from backend.ota.vehicle_facts import FactsIn, all_facts, save_facts
from backend.privacy.retention_store import read_tag
from backend.runtime.roles import run_api, run_services
from backend.services.lane import ServicesDesk
from backend.settings import BackendSettings
from cli.local_services import free_port
from cli.stack import wait_ready
from protocols.clock import ClockState, pack_clock_state
from protocols.ota import (
    OtaCommand,
    OtaEvent,
    OtaOffer,
    OtaReason,
    OtaStateName,
    pack_ota_event,
    unpack_ota_command,
    unpack_ota_offer,
)
from protocols.topics import ota_event_topic, parse_topic
from tests.backend.support import Car, Lanes, auth, forget_session, new_vin, own_database, signer

GB = 1_000_000_000
SIZE = 4 * GB
VERSION = "25-03.2"
OLD_VERSION = "24-11.0"
T0 = 1_767_225_600.0
T = TypeVar("T")


# -- helpers shared with test_ota_routes ---------------------------------------------
def ota_event(vin: str, campaign_id: str, state: OtaStateName, *,
              reason: OtaReason | None = None, bytes_done: int | None = None,
              version: str = VERSION, at: float | None = None) -> OtaEvent:
    """An event as the car's machine emits it; done means it runs the new version."""
    done = bytes_done if bytes_done is not None else (
        0 if state in ("notified", "downloading") else SIZE)
    return OtaEvent(vin=vin, campaign_id=campaign_id, version=version, state=state,
                    at=time.time() if at is None else at, bytes_done=done, bytes_total=SIZE,
                    channel="sim" if state != "notified" else None, reason=reason,
                    running_version=VERSION if state == "done" else OLD_VERSION,
                    sent_ns=time.time_ns())


async def eventually(read: Callable[[], Awaitable[T]], ok: Callable[[T], bool], *,
                     timeout_s: float = 5.0, what: str = "condition") -> T:
    """Poll ``read`` until ``ok``; fail after a bounded deadline with the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await read()
        if ok(value):
            return value
        assert time.monotonic() < deadline, f"{what} never held; last: {value!r}"
        await asyncio.sleep(0.02)


class OtaCars:
    """The cars of a campaign, each its own connection with its own certificate: they
    publish their OTA events and record what the backend sends down on their OTA topics."""

    def __init__(self, mqtt_url: str, vins: list[str]) -> None:
        self.cars = [Car(mqtt_url, vin, topics=[f"cmd/v1/{vin}/ota/+"]) for vin in vins]
        self._by_vin = {car.vin: car for car in self.cars}
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> OtaCars:
        async with contextlib.AsyncExitStack() as stack:
            for car in self.cars:
                await stack.enter_async_context(car)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._stack.aclose()

    def send(self, event: OtaEvent) -> None:
        self._by_vin[event.vin].publish_raw(ota_event_topic(event.vin), pack_ota_event(event))

    def offers(self, vins: set[str] | list[str]) -> list[tuple[str, OtaOffer]]:
        return [(p.vin, unpack_ota_offer(payload)) for p, payload in self._parsed()
                if p.kind == "ota_offer" and p.vin in vins]

    def commands(self, vins: set[str] | list[str]) -> list[tuple[str, OtaCommand]]:
        return [(p.vin, unpack_ota_command(payload)) for p, payload in self._parsed()
                if p.kind == "ota_command" and p.vin in vins]

    def _parsed(self) -> list[tuple[Any, bytes]]:
        return [(parse_topic(topic), payload) for car in self.cars
                for topic, payload in car.messages]

    async def wait_for(self, ok: Callable[[], bool], *, timeout_s: float = 5.0,
                       what: str = "downlink") -> None:
        deadline = time.monotonic() + timeout_s
        while not ok():
            count = sum(len(car.messages) for car in self.cars)
            assert time.monotonic() < deadline, f"{what} never arrived; got {count} messages"
            await asyncio.sleep(0.02)


async def forget_services_session(settings: BackendSettings) -> None:
    """Drop the persistent session of a stopped services worker: the broker would keep
    handing it a share of later tests' events."""
    await forget_session(settings, "services")


@contextlib.asynccontextmanager
async def ota_stack(mqtt_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The services role and the API, and an HTTP client of the API."""
    settings = signer().settings(mqtt_url=mqtt_url, redis_url=redis_url,
                                 worker_id=uuid.uuid4().hex[:8], api_port=free_port(),
                                 follow_scenario_clock=True)
    lanes = Lanes(settings)
    lanes.start_role("services", run_services)
    lanes.start_role("api", run_api)
    base = f"http://{settings.api_host}:{settings.api_port}"
    try:
        await lanes.wait_ready("services")
        await wait_ready(base, [], since=0.0, token=signer().token("operator"))
        async with httpx.AsyncClient(base_url=base, timeout=5.0,
                                     headers=auth("operator")) as client:
            yield client
    finally:
        for name in list(lanes.tasks):
            await lanes.stop_role(name)
        await forget_services_session(settings)
        # A stopped lane's heartbeat stays fresh for seconds; other tests' /health must
        # not count this one as a running services lane.
        redis = Redis.from_url(redis_url, db=settings.oem_db)
        await redis.hdel(keys.READY, f"services-{settings.worker_id}")
        await redis.aclose()


async def register(client: httpx.AsyncClient, vins: list[str], *, model: str,
                   propulsion: str = "bev", os_version: int = 9, country: str = "BE") -> None:
    for vin in vins:
        response = await client.put(f"/vehicles/{vin}/facts", json={
            "model": model, "propulsion": propulsion, "os_version": os_version,
            "country": country})
        assert response.status_code == 204, response.text


def campaign_body(campaign_id: str, model: str, groups: list[dict[str, Any]],
                  **extra: Any) -> dict[str, Any]:
    return {"campaign_id": campaign_id, "version": VERSION, "size_bytes": SIZE,
            "release_notes": "Faster navigation start-up.", "action_timeout_s": 3_600,
            "target": {"models": [model]}, "groups": groups, **extra}


def fresh_id() -> str:
    return f"camp-{uuid.uuid4().hex[:10]}"


# -- fixtures -------------------------------------------------------------------------
@pytest.fixture
async def stack(mqtt_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with ota_stack(mqtt_url, redis_url) as client:
        yield client


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    async with own_database(redis_url, 13) as redis:
        yield redis


# -- the lanes end to end -------------------------------------------------------------
async def test_ota_lane_offers_first_group_then_next_on_success(
        stack: httpx.AsyncClient, mqtt_url: str) -> None:
    """Only the pilot car is offered; its done report releases the rest, once each."""
    model, campaign_id = f"m-{uuid.uuid4().hex[:8]}", fresh_id()
    vins = sorted(new_vin() for _ in range(4))
    await register(stack, vins, model=model)
    async with OtaCars(mqtt_url, vins) as cars:
        created = await stack.post("/ota/campaigns", json=campaign_body(campaign_id, model, [
            {"name": "pilot", "size": 1, "success_threshold": 1.0, "error_threshold": 1.0},
            {"name": "rest", "share": 1.0, "success_threshold": 1.0, "error_threshold": 0.5},
        ]))
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["status"], body["current_group"], body["vehicles"]) == (
            "running", "pilot", 4)
        pilot, rest = vins[0], vins[1:]
        await cars.wait_for(lambda: bool(cars.offers([pilot])), what="pilot offer")
        [(_, offer)] = cars.offers([pilot])
        assert (offer.campaign_id, offer.version, offer.size_bytes, offer.release_notes) == (
            campaign_id, VERSION, SIZE, "Faster navigation start-up.")
        pending = (await stack.get(f"/ota/campaigns/{campaign_id}/vehicles",
                                   params={"status": "pending"})).json()
        assert [v["vin"] for v in pending["data"]] == rest

        for state in ("notified", "downloading", "downloaded", "awaiting_confirmation",
                      "installing", "done"):
            cars.send(ota_event(pilot, campaign_id, state))
        await cars.wait_for(lambda: len(cars.offers(rest)) == 3, what="rest offers")

    assert sorted(vin for vin, _ in cars.offers(vins)) == vins  # one offer each
    progress_now = (await stack.get(f"/ota/campaigns/{campaign_id}")).json()
    assert progress_now["current_group"] == "rest"
    assert progress_now["counts"]["done"] == 1
    assert progress_now["counts"]["offered"] == 3
    car = (await stack.get(f"/ota/campaigns/{campaign_id}/vehicles/{pilot}")).json()
    assert (car["status"], car["group"], car["car"]["state"]) == ("done", "pilot", "done")

    history = (await stack.get(f"/vehicles/{pilot}/ota")).json()
    assert (history["current"]["state"], history["current"]["reason"]) == ("done", None)
    assert history["current"]["service"] == "rsu"
    assert history["running_version"]["version"] == VERSION
    assert [e["state"] for e in history["events"]] == [  # the car's order, oldest first
        "notified", "downloading", "downloaded", "awaiting_confirmation", "installing",
        "done"]
    assert [(e["kind"], e["group"]) for e in history["sent"]] == [("offer", "pilot")]
    assert not any("retention_rule" in e for e in history["events"] + history["sent"])
    assert history["retention_rules"] == {  # as the tags of the car's three records say
        "current": "vehicle_lifetime", "events": "vehicle_lifetime", "sent": "vehicle_lifetime"}
    facts = (await stack.get(f"/vehicles/{pilot}/facts")).json()
    assert facts["os_version"] == 9  # the registration's OS stays as it was


async def test_ota_lane_error_threshold_pauses_and_resume_goes_on(
        stack: httpx.AsyncClient, mqtt_url: str) -> None:
    """A rolled-back pilot car hits the error threshold; after resume the other pilot
    car's success releases the next group."""
    model, campaign_id = f"m-{uuid.uuid4().hex[:8]}", fresh_id()
    vins = sorted(new_vin() for _ in range(4))
    await register(stack, vins, model=model)
    async with OtaCars(mqtt_url, vins) as cars:
        created = await stack.post("/ota/campaigns", json=campaign_body(campaign_id, model, [
            {"name": "pilot", "size": 2, "success_threshold": 0.5, "error_threshold": 0.5},
            {"name": "rest", "share": 1.0},
        ]))
        assert created.status_code == 201, created.text
        first, second = vins[:2]
        cars.send(ota_event(first, campaign_id, "installing"))
        cars.send(ota_event(first, campaign_id, "rolled_back", reason="timeout"))
        paused = await eventually(
            lambda: _json(stack, f"/ota/campaigns/{campaign_id}"),
            lambda p: p["status"] == "paused", what="pause on error threshold")
        assert paused["paused_reason"] == "error_threshold"
        assert paused["reasons"] == {"timeout_rolled_back": 1}
        assert paused["groups"][0]["failures"] == 1

        resumed = await stack.post(f"/ota/campaigns/{campaign_id}/resume")
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["status"] == "running"
        cars.send(ota_event(second, campaign_id, "installing"))
        cars.send(ota_event(second, campaign_id, "done"))
        await cars.wait_for(lambda: len(cars.offers(vins[2:])) == 2,
                                what="next group's offers")
    again = await stack.post(f"/ota/campaigns/{campaign_id}/resume")
    assert again.status_code == 409
    assert again.json()["rule"] == "resume only from paused"


async def test_ota_lane_cancel_withdraws_offers_but_not_installs(
        stack: httpx.AsyncClient, mqtt_url: str) -> None:
    """Cancel sends a backend cancel to offered cars only; an installing car finishes."""
    model, campaign_id = f"m-{uuid.uuid4().hex[:8]}", fresh_id()
    vins = sorted(new_vin() for _ in range(3))
    await register(stack, vins, model=model)
    installing = vins[0]
    async with OtaCars(mqtt_url, vins) as cars:
        created = await stack.post("/ota/campaigns", json=campaign_body(
            campaign_id, model, [{"name": "all", "share": 1.0}]))
        assert created.status_code == 201, created.text
        cars.send(ota_event(installing, campaign_id, "installing"))
        await eventually(lambda: _json(stack, f"/ota/campaigns/{campaign_id}"),
                         lambda p: p["counts"]["installing"] == 1, what="installing")
        cancelled = await stack.post(f"/ota/campaigns/{campaign_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        await cars.wait_for(lambda: len(cars.commands(vins)) == 2, what="cancels")
        commands = cars.commands(vins)
        assert sorted(vin for vin, _ in commands) == vins[1:]
        assert {(c.campaign_id, c.action, c.by) for _, c in commands} == {
            (campaign_id, "cancel", "backend")}
        cars.send(ota_event(installing, campaign_id, "done"))
        done = await eventually(lambda: _json(stack, f"/ota/campaigns/{campaign_id}"),
                                lambda p: p["counts"]["done"] == 1, what="install done")
    assert (done["status"], done["counts"]["cancelled"]) == ("cancelled", 2)
    assert (await stack.post(f"/ota/campaigns/{campaign_id}/cancel")).status_code == 409


async def _json(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- the desk against Redis, with a clock the test moves -------------------------------
def _announce(desk: ServicesDesk, at: float, seq: int) -> None:
    """Freeze the desk's clock at ``at`` (scale 0), as a scenario runner announces it."""
    assert desk.clock.hear(pack_clock_state(ClockState(
        virtual_anchor=at, real_anchor_ns=time.time_ns(), scale=0.0, seq=seq,
        run="test-ota")))


async def _planned(oem: Redis, vins: list[str], groups: tuple[RolloutGroup, ...], *,
                   timeout_s: float = 3_600.0) -> str:
    model = f"m-{uuid.uuid4().hex[:8]}"
    for vin in vins:
        await save_facts(oem, vin, FactsIn(model=model, propulsion="bev", os_version=10,
                                           country="NL"), now=T0)
    spec = CampaignSpec(fresh_id(), VERSION, SIZE, TargetSelector(models=(model,)), groups,
                        timeout_s)
    campaign = plan(spec, await all_facts(oem))
    await create_campaign(oem, campaign)
    return spec.campaign_id


async def test_ota_lane_action_timeout_on_a_controlled_clock(oem: Redis) -> None:
    """Silent cars time out exactly at the action timeout; offers not installing are
    withdrawn, and the failures pause the campaign."""
    sent: list[tuple[str, bytes]] = []
    counters = Counters()
    desk = ServicesDesk(oem, publish=lambda t, p: sent.append((t, p)), counters=counters)
    _announce(desk, T0, seq=0)
    vins = sorted(new_vin() for _ in range(3))
    campaign_id = await _planned(oem, vins, (RolloutGroup("all", share=1.0,
                                                          error_threshold=0.5),))
    await desk.ota.step(campaign_id, lambda c: start(c, now=desk.clock.now()))
    assert sorted(parse_topic(t).vin for t, _ in sent) == vins
    sent.clear()

    _announce(desk, T0 + 600, seq=1)
    talking, installing, silent = vins
    await desk.handle(ota_event_topic(talking), pack_ota_event(
        ota_event(talking, campaign_id, "downloading", at=T0 + 600)))
    await desk.handle(ota_event_topic(installing), pack_ota_event(
        ota_event(installing, campaign_id, "installing", at=T0 + 600)))

    assert await desk.ota.tick_all(T0 + 3_599) == 0
    _announce(desk, T0 + 3_600, seq=2)
    assert await desk.ota.tick_all(desk.clock.now()) == 1  # only the silent one
    stuck = await load_campaign(oem, campaign_id)
    assert (stuck.vehicles[silent].status, stuck.vehicles[silent].reason) == (
        "timed_out", "timeout")
    assert stuck.vehicles[talking].status == "downloading"
    assert [(parse_topic(t).vin, unpack_ota_command(p).by) for t, p in sent] == [
        (silent, "backend")]
    assert stuck.status == "running"  # 1 of 3 is under the 50 % error threshold

    sent.clear()
    _announce(desk, T0 + 4_200, seq=3)
    assert await desk.ota.tick_all(desk.clock.now()) == 1
    ended = await load_campaign(oem, campaign_id)
    assert {v.status for v in ended.vehicles.values()} == {"timed_out"}
    # The installing car keeps its installation; only the downloading one is withdrawn.
    assert [parse_topic(t).vin for t, _ in sent] == [talking]
    assert (ended.status, ended.paused_reason) == ("paused", "error_threshold")
    assert progress(ended)["reasons"] == {"timeout": 3}
    assert await desk.ota.tick_all(desk.clock.now() + 86_400) == 0  # all final
    totals = counters.totals[keys.INGEST_COUNTERS]
    assert (totals["ota_campaign_paused"], totals["ota_cancel_sent"]) == (1, 2)


async def test_ota_lane_mismatched_vin_is_rejected_and_counted(oem: Redis) -> None:
    """An event whose VIN is not its topic's is refused, counted, and stored nowhere."""
    counters = Counters()
    desk = ServicesDesk(oem, publish=lambda _t, _p: None, counters=counters)
    sender, other = new_vin(), new_vin()
    event = ota_event(sender, fresh_id(), "downloading")
    await desk.handle(ota_event_topic(other), pack_ota_event(event))
    assert counters.totals[keys.ERROR_COUNTERS]["vin:record vin == topic vin"] == 1
    assert counters.totals[keys.INGEST_COUNTERS]["rejected"] == 1
    assert await oem.exists(state_key(sender), state_key(other)) == 0
    await desk.handle(ota_event_topic(other), b"\x81\xa1v\x01")  # not an OTA event at all
    assert counters.totals[keys.INGEST_COUNTERS]["rejected"] == 2


async def test_ota_lane_unknown_campaign_and_foreign_vin_are_unmatched(oem: Redis) -> None:
    """Events of a campaign that does not exist, or of a car it does not target, are
    kept in the car's history but counted as unmatched."""
    counters = Counters()
    desk = ServicesDesk(oem, publish=lambda _t, _p: None, counters=counters)
    stranger = new_vin()
    await desk.handle(ota_event_topic(stranger),
                      pack_ota_event(ota_event(stranger, "no-such-campaign", "downloading")))
    campaign_id = await _planned(oem, [new_vin()], (RolloutGroup("all", share=1.0),))
    await desk.ota.step(campaign_id, lambda c: start(c, now=T0))
    await desk.handle(ota_event_topic(stranger),
                      pack_ota_event(ota_event(stranger, campaign_id, "installing")))
    assert counters.totals[keys.INGEST_COUNTERS]["ota_event_unmatched"] == 2
    assert counters.totals[keys.INGEST_COUNTERS]["ota_event"] == 2
    view = await vehicle_ota(oem, stranger)
    assert [e["campaign_id"] for e in view["events"]] == ["no-such-campaign", campaign_id]


async def test_ota_lane_redelivery_is_stored_once_and_old_events_do_not_win(
        oem: Redis) -> None:
    """QoS 1 may deliver twice or late: the history keeps one copy, the state the newest."""
    counters = Counters()
    desk = OtaDesk(oem, publish=lambda _t, _p: None, counters=counters, clock=_Fixed(T0))
    vin = new_vin()
    newer = ota_event(vin, "camp-x", "downloading", at=T0 + 10)
    older = ota_event(vin, "camp-x", "notified", at=T0)
    await desk.handle_event(vin, pack_ota_event(newer))
    await desk.handle_event(vin, pack_ota_event(newer))
    await desk.handle_event(vin, pack_ota_event(older))
    view = await vehicle_ota(oem, vin)
    assert [e["state"] for e in view["events"]] == ["notified", "downloading"]  # car's order
    assert view["current"]["state"] == "downloading"
    assert [e["state"] for e in (await vehicle_ota(oem, vin, limit=1))["events"]] == [
        "downloading"]
    assert counters.totals[keys.INGEST_COUNTERS]["ota_event_duplicate"] == 1
    # OTA maintenance information is kept for the vehicle's lifetime (§15), tagged once.
    for key in (state_key(vin), events_key(vin)):
        tag = await read_tag(oem, key)
        assert tag is not None and (tag.service, tag.rule.kind, tag.deadline) == (
            "rsu", "vehicle_lifetime", None)


async def test_ota_lane_tick_loop_survives_redis_errors() -> None:
    """With Redis gone the loop counts its failures and still stops when asked."""
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}", db=0,
                                 socket_connect_timeout=0.2)
    counters = Counters()
    desk = OtaDesk(unreachable, publish=lambda _t, _p: None, counters=counters,
                   clock=_Fixed(T0))
    stop = asyncio.Event()
    loop = asyncio.create_task(desk.tick_forever(stop, interval_s=0.01))

    async def failed_ticks() -> int:
        return counters.totals.get(keys.INGEST_COUNTERS, Counter())["ota_tick_error"]

    await eventually(failed_ticks, lambda n: n >= 2, what="two failed ticks")
    stop.set()
    await asyncio.wait_for(loop, 5)
    await unreachable.aclose()


class _Fixed:
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


# -- the phase mapping (pure) ---------------------------------------------------------
@pytest.mark.parametrize(("state", "reason", "bytes_done", "expected"), [
    ("notified", None, 0, None),
    ("downloading", None, 0, ("downloading", "")),
    ("downloading", "download_interrupted", GB, ("downloading", "download_interrupted")),
    ("downloaded", None, SIZE, ("awaiting_confirmation", "")),
    ("awaiting_confirmation", None, SIZE, ("awaiting_confirmation", "")),
    ("refused", "battery_low", SIZE, ("awaiting_confirmation", "battery_low")),
    ("refused", "os_too_old", SIZE, ("awaiting_confirmation", "os_too_old")),
    ("waiting_ecall", "ecall_active", GB, ("downloading", "ecall_active")),
    ("waiting_ecall", "ecall_active", SIZE, ("awaiting_confirmation", "ecall_active")),
    ("installing", None, SIZE, ("installing", "")),
    ("done", None, SIZE, ("done", "")),
    ("failed", "install_failed", SIZE, ("failed", "install_failed")),
    ("failed", "timeout", SIZE, ("failed", "timeout")),
    ("rolled_back", "install_failed", SIZE, ("failed", "install_failed_rolled_back")),
    ("rolled_back", "timeout", SIZE, ("failed", "timeout_rolled_back")),
    ("idle", "cancelled", 0, ("refused", "cancelled")),
    ("idle", "service_switched_off", 0, ("refused", "service_switched_off")),
    ("idle", None, 0, None),
])
def test_ota_lane_phase_maps_to_campaign_report(
        state: OtaStateName, reason: OtaReason | None, bytes_done: int,
        expected: tuple[str, str] | None) -> None:
    """The car's phase becomes the campaign's report; refusals of a precondition wait."""
    assert report_of(ota_event(new_vin(), "c", state, reason=reason,
                               bytes_done=bytes_done)) == expected
