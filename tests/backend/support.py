"""Helpers of the backend tests: a bare MQTT car, MSD builders, lanes as tasks, and
bearer tokens signed with the tests' own key pair (``signer``). Every MQTT client here
presents its own certificate to the test's secure broker (``tests.brokers``)."""


from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import shutil
import ssl
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import gmqtt
import httpx
import jwt
from fastapi import APIRouter, FastAPI, Request, Response
from gmqtt.mqtt.constants import MQTTv50
from redis.asyncio import Redis

from backend.api.access_deps import install_verifier
from backend.api.error_handlers import install_error_handlers
from backend.api.tokens import TokenVerifier, verifier_from
from backend.settings import BackendSettings
from cli.stack import local_auth
from cli.token import KeyPair, ensure_key_pair, mint
from protocols.addresses import mqtt_address, mqtt_ssl
from protocols.envelope import EcallAck, EcallMessage, IntelligentExtras, pack, unpack
from protocols.msd.codec import encode_msd
from protocols.msd.model import LocationDelta, Msd, Propulsion, VehicleLocation
from protocols.topics import EcallVariant, ecall_ack_topic, ecall_topic
from tests.brokers import backend_tls_settings, client_address
from vehicle_sim.api_role import bearer

RoleRunner = Callable[[BackendSettings, asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Signer:
    """The tests' local key pair: settings whose API trusts it, and tokens signed with it."""

    keys: KeyPair

    def settings(self, **values: Any) -> BackendSettings:
        """Settings whose API trusts this key pair; on a test's secure broker every role
        also gets its certificate (``tests.brokers``)."""
        tls = backend_tls_settings(values["mqtt_url"]) if "mqtt_url" in values else {}
        return local_auth(BackendSettings(**tls, **values), self.keys)

    @property
    def verifier(self) -> TokenVerifier:
        return verifier_from(self.settings())

    def install(self, app: FastAPI) -> FastAPI:
        """Let a test's own app (routers without ``create_app``) check these tokens and
        answer its errors as the API does."""
        install_verifier(app, self.verifier)
        install_error_handlers(app)
        return app

    def token(self, role: str, party: str = "", **claims: Any) -> str:
        """A valid token of ``role``; ``claims`` override or (as None) drop claims."""
        defaults = BackendSettings()
        text = mint(self.keys.private.read_bytes(), role=role, party=party,
                    issuer=defaults.auth_issuer, audience=defaults.auth_audience)
        if not claims:
            return text
        payload = jwt.decode(text, options={"verify_signature": False})
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.keys.private.read_bytes(), algorithm="ES256")

    def auth(self, role: str, party: str = "") -> dict[str, str]:
        """The headers of a request signed in as ``role`` (and ``party``)."""
        return bearer(self.token(role, party))


@functools.cache
def signer() -> Signer:
    """One key pair per test process, in a directory of its own removed at exit."""
    run_dir = Path(tempfile.mkdtemp(prefix="telematics-test-run-"))
    atexit.register(shutil.rmtree, run_dir, ignore_errors=True)
    return Signer(ensure_key_pair(run_dir))


def auth(role: str, party: str = "") -> dict[str, str]:
    """``signer().auth``: the headers of a request signed in as ``role``."""
    return signer().auth(role, party)


@dataclass
class StepClock:
    """The backend clock of a test: the scenario's virtual time, moved by hand."""

    at: float

    def now(self) -> float:
        return self.at


def router_app(*routers: APIRouter, state: object) -> FastAPI:
    """An app of only these routers, trusting the tests' tokens, answering errors as the
    API does, with ``state`` where the API's lifespan puts its ``ApiState``."""
    app = signer().install(FastAPI())
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def attach_state(request: Request,
                           call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.api = state
        return await call_next(request)

    return app


def make_msd(vin: str, *, msg_id: int = 1, lat: float = 50.8467, lon: float = 4.3525,
             timestamp: int = 1_767_225_600) -> Msd:
    return Msd(message_identifier=msg_id, automatic_activation=True, test_call=False,
               position_can_be_trusted=True, vehicle_type="passengerVehicleCategoryM1",
               vin=vin, propulsion=Propulsion(gasoline_tank_present=True), timestamp=timestamp,
               location=VehicleLocation.from_degrees(lat, lon), direction=45,
               n1=LocationDelta(0, 10), n2=LocationDelta(0, 30), number_of_occupants=2)


def new_vin() -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    n = uuid.uuid4().int
    tail = "".join(alphabet[(n >> (6 * i)) % 33] for i in range(8))
    return f"WMW21DH0X{tail}"


@dataclass
class Lanes:
    """Backend roles started as tasks; ``stop_role``/``start_role`` simulate crashes."""

    settings: BackendSettings
    tasks: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = field(default_factory=dict)

    def start_role(self, name: str, runner: RoleRunner) -> None:
        stop = asyncio.Event()
        self.tasks[name] = (asyncio.create_task(runner(self.settings, stop), name=name), stop)

    async def stop_role(self, name: str) -> None:
        task, stop = self.tasks.pop(name)
        stop.set()
        await asyncio.wait_for(task, 10)

    async def forget_sessions(self) -> None:
        """Drop the persistent broker sessions stopped workers leave behind.

        The broker keeps a stopped worker's share of its group's messages for its
        return; a test's worker never returns, so its sessions must not outlive the test.
        """
        for role in ("emergency", "services"):
            await forget_session(self.settings, role)

    async def wait_ready(self, *roles: str, since: float = 0.0, timeout_s: float = 10.0) -> None:
        """Wait until each role has marked itself ready at or after ``since``."""
        oem = Redis.from_url(self.settings.redis_url, db=self.settings.oem_db)
        deadline = time.monotonic() + timeout_s
        try:
            wanted = {f"{r}-{self.settings.worker_id}" for r in roles}
            while True:
                raw = cast(dict[bytes, bytes], await oem.hgetall("lanes:ready"))
                ready = {k.decode() for k, v in raw.items() if float(v) >= since}
                if wanted <= ready:
                    break
                assert time.monotonic() < deadline, f"lanes {wanted - ready} not ready"
                await asyncio.sleep(0.02)
        finally:
            await oem.aclose()


async def forget_session(settings: BackendSettings, role: str) -> None:
    """Connect as ``role``'s worker of ``settings`` with a clean session, and leave."""
    client = gmqtt.Client(f"backend-{role}-{settings.worker_id}", clean_session=True)
    host, port = mqtt_address(settings.mqtt_url)
    await client.connect(host, port, ssl=mqtt_ssl(settings.mqtt_url, settings.mqtt_tls(role)),
                         version=MQTTv50)
    await disconnect(client)


class Car:
    """A bare MQTT car for backend tests: publishes eCalls and collects acknowledgements.

    It presents its own certificate (CN = its VIN) on the broker's device listener, so it
    may do only what the ACL lets that car do; ``topics`` are more of its own downlinks to
    hear (queued for ``next``)."""

    def __init__(self, mqtt_url: str, vin: str, *, persistent: bool = False,
                 topics: Sequence[str] = ()) -> None:
        self.url = mqtt_url
        self.vin = vin
        self.acks: asyncio.Queue[EcallAck] = asyncio.Queue()
        self.messages: list[tuple[str, bytes]] = []  # on ``topics``, as they arrive
        self._received: asyncio.Queue[bytes] = asyncio.Queue()
        # A persistent car keeps its session (and its unacknowledged eCalls) across a broker
        # restart and reconnects at once, as a TCU does; it subscribes on every CONNACK.
        options: dict[str, object] = (
            {"clean_session": False, "session_expiry_interval": 3600} if persistent else {})
        self.client = gmqtt.Client(f"test-car-{vin}-{uuid.uuid4().hex[:4]}", **options)
        self.client.set_config({"reconnect_retries": -1, "reconnect_delay": 0.2})
        subscriptions = [gmqtt.Subscription(topic, qos=1)
                         for topic in (ecall_ack_topic(vin), *topics)]
        self.client.on_connect = lambda client, *_a: client.subscribe(subscriptions)

        def on_message(_c: object, topic: str, payload: bytes, _q: int, _p: object) -> int:
            if topic != ecall_ack_topic(vin):
                self.messages.append((topic, payload))
                self._received.put_nowait(payload)
                return 0
            message = unpack(payload)
            assert isinstance(message, EcallAck)
            self.acks.put_nowait(message)
            return 0

        self.client.on_message = on_message

    async def __aenter__(self) -> Car:
        host, port, tls = client_address(self.url, self.vin)
        subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_subscribe(*_a: object) -> None:
            if not subscribed.done():
                subscribed.set_result(None)

        self.client.on_subscribe = on_subscribe
        await self.client.connect(host, port, ssl=tls, version=MQTTv50)
        await asyncio.wait_for(subscribed, 5)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        # The broker's PUBACKs first: a client that disconnects before them may lose the
        # messages (Mosquitto then logs "disconnected due to out of memory").
        await asyncio.wait_for(self.client._persistent_storage.wait_empty(), 10)
        await disconnect(self.client)

    def send(self, variant: EcallVariant, incident: str, *, msg_id: int = 1,
             msd: bytes | None = None, extras: IntelligentExtras | None = None) -> EcallMessage:
        message = EcallMessage(variant, self.vin, incident, msg_id,
                               msd if msd is not None else encode_msd(
                                   make_msd(self.vin, msg_id=msg_id)),
                               time.time_ns(), "BE", extras)
        self.client.publish(ecall_topic(self.vin, variant), pack(message), qos=1)
        return message

    def publish_raw(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)

    async def ack(self, timeout_s: float = 5.0) -> EcallAck:
        return await asyncio.wait_for(self.acks.get(), timeout_s)

    async def next(self, timeout_s: float = 5.0) -> object:
        """The next envelope on one of ``topics``."""
        return unpack(await asyncio.wait_for(self._received.get(), timeout_s))


async def connect_as(client: gmqtt.Client, mqtt_url: str, identity: str) -> gmqtt.Client:
    """Connect ``client`` to ``mqtt_url``'s broker as ``identity``, with its certificate."""
    host, port, tls = client_address(mqtt_url, identity)
    await client.connect(host, port, ssl=tls, version=MQTTv50)
    return client


async def disconnect(client: gmqtt.Client) -> None:
    # asyncio's TLS shutdown raises when the broker's last packet (a PUBACK) is still
    # unread as the DISCONNECT goes out; the connection is closed either way.
    with contextlib.suppress(ssl.SSLError):
        await client.disconnect()


@asynccontextmanager
async def own_database(redis_url: str, db: int) -> AsyncIterator[Redis]:
    """A Redis database of one test module's own, empty at the start: sweeps, ticks and
    fleet summaries act on everything in a database, so modules must not share one."""
    client = Redis.from_url(redis_url, db=db)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def asgi_client(app: FastAPI, *, headers: dict[str, str]
                      ) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` in this process with its lifespan running, as a server runs it
    (``httpx.ASGITransport`` alone runs no lifespan and passes no lifespan state)."""
    async with app.router.lifespan_context(app) as state:
        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=with_state),
                                     base_url="http://test", headers=headers) as client:
            yield client


@asynccontextmanager
async def api_stack(mqtt_url: str, redis_url: str, *, psap_redis_url: str = "",
                    psap_relay_redis_url: str = "") -> AsyncIterator[tuple[Lanes, str]]:
    """The emergency and desk lanes with the HTTP API, live; yields them and the API URL.
    Without the PSAP URLs the PSAP domain is a database of ``redis_url`` (weak mode)."""
    from backend.runtime.roles import run_api, run_desks, run_emergency
    from cli.local_services import free_port
    from cli.stack import wait_ready

    settings = signer().settings(mqtt_url=mqtt_url, redis_url=redis_url,
                                 psap_redis_url=psap_redis_url,
                                 psap_relay_redis_url=psap_relay_redis_url,
                                 worker_id=uuid.uuid4().hex[:8], api_port=free_port())
    lanes = Lanes(settings)
    for name, runner in (("emergency", run_emergency), ("desks", run_desks), ("api", run_api)):
        lanes.start_role(name, runner)
    base = f"http://{settings.api_host}:{settings.api_port}"
    try:
        await wait_ready(base, ["emergency", "desks"], since=0.0,
                         token=signer().token("operator"))
        yield lanes, base
    finally:
        for name in list(lanes.tasks):
            await lanes.stop_role(name)
        await lanes.forget_sessions()
