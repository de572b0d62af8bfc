"""The backend's worker roles, each meant to run in its own process.

The emergency lane has a process and a broker connection of its own, so bulk traffic
can never queue ahead of an eCall on the same event loop; measured here, sharing one
loop turned a 6 ms p99 into 69 ms.

The emergency and services lanes subscribe with plain (not ``$share``) subscriptions
in persistent sessions: Mosquitto keeps those across its own restart and queues what
arrives before the lane is back, while it forgets ``$share`` subscriptions and drops
what cars publish in that window (measured: every eCall sent between the broker's
restart and the lane's return was acknowledged by the broker and lost). Several
workers of one lane therefore each hear every message, active-active: the hand-off
de-duplicates in the same Redis step, so the first one wins and both acknowledge.
Bulk telemetry (QoS 0, losable) keeps its share group for load balancing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Final, Literal

import gmqtt
import uvicorn
from redis.asyncio import BlockingConnectionPool, Redis

from backend.api.app import create_app
from backend.emergency.desks import CallCentreDesk, PsapDesks
from backend.emergency.psap_directory import warm_up
from backend.emergency.redis_records import RedisCallCentreCases, RedisPsapIncidents
from backend.emergency.relay import EmergencyRelay
from backend.infra import keys, metrics
from backend.infra.clock_follower import clock_feed, listening_clock
from backend.infra.counters import Counters
from backend.infra.mqtt_link import (
    LaneLink,
    MessageHandler,
    QosOnePublisher,
    Screen,
    bounded,
    disconnect,
    make_client,
    quiet_stop,
)
from backend.infra.readiness import Prover
from backend.infra.rejection_replies import Refusals, safety_qos_screen
from backend.infra.streams import StreamGroups, StreamWriter
from backend.privacy import budget_store
from backend.privacy.retention_sweeper import sweep_forever
from backend.runtime.customer_contacts import ProfileContacts
from backend.runtime.metrics_endpoint import metrics_served
from backend.runtime.role_names import ROLES as ROLES
from backend.runtime.role_names import Role as Role
from backend.services.lane import ServicesDesk
from backend.settings import BackendSettings
from protocols.consistency import TELEMETRY_KIND_RULE
from protocols.contract import qos_of
from protocols.envelope import Telemetry, unpack
from protocols.errors import EnvelopeError, ProtocolError
from protocols.msd.codec import decode_msd
from protocols.topics import (
    ASSISTANCE_FILTER,
    BULK_SHARE_GROUP,
    ECALL_FILTER,
    HV_WARN_FILTER,
    OTA_EVENT_FILTER,
    TELEMETRY_FILTER,
    TELESERVICE_FILTER,
    VOICE_FILTER,
    parse_topic,
    shared,
)

log = logging.getLogger(__name__)

# Above every lane's in-flight bound, so a burst waits for the broker, not for a socket.
REDIS_POOL_MAX: Final = 2048
# A task that finds every pooled connection busy waits this long for one before the lane's
# retry takes over: back-pressure on a burst instead of a flood of refused commands.
REDIS_POOL_WAIT_S: Final = 10.0


# Which users of the PSAP domain's Redis each role connects as. The OEM roles never get
# the ``psap`` user's password (the emergency lane only hands off, as ``relay``); roles
# that never touch the PSAP domain get no PSAP password at all.
PSAP_USERS: Final[dict[Role, frozenset[Literal["relay", "psap"]]]] = {
    "emergency": frozenset({"relay"}),
    "desks": frozenset({"relay", "psap"}),  # the call centre hands over; the PSAP desks read
    "services": frozenset(),
    "bulk": frozenset(),
    "api": frozenset({"psap"}),
}


def settings_for(role: Role, settings: BackendSettings) -> BackendSettings:
    """``settings`` without the PSAP credentials ``role`` has no use for (pure).

    Only when the relay and the desks have URLs of their own: in the weak mode (one URL,
    or none) there is nothing to keep apart, and dropping it would send the role elsewhere.
    """
    if not (settings.psap_redis_url and settings.psap_relay_redis_url):
        return settings
    users = PSAP_USERS[role]
    return settings.model_copy(update={
        "psap_redis_url": settings.psap_redis_url if "psap" in users else "",
        "psap_relay_redis_url": settings.psap_relay_redis_url if "relay" in users else ""})


def _connect(url: str, db: int, *, name: str) -> Redis:
    """A client whose pool makes a burst wait for a free connection (a blocking pool)
    rather than refuse it with ``MaxConnectionsError``: the services lane takes a fleet's
    calls all at once, and each would otherwise be refused, logged and retried."""
    pool = BlockingConnectionPool.from_url(url, db=db, health_check_interval=5,
                                           socket_keepalive=True,
                                           max_connections=REDIS_POOL_MAX,
                                           timeout=REDIS_POOL_WAIT_S)
    POOLS[name] = pool  # its use is a metric (``metrics_endpoint.sample_pools``)
    return Redis.from_pool(pool)  # closing the client closes its pool


# This process's lane pools by name, as the metrics report them (one role per process).
POOLS: Final[dict[str, BlockingConnectionPool]] = {}


def _handoff_redis(url: str, db: int) -> Redis:
    """One connection, no pool, for the relay's hand-offs alone.

    Profiled on the eCall path, taking a connection from the blocking pool and giving it
    back (a condition, a timeout, a read check) cost more than the hand-off's own command
    (about 0.3 against 0.14 ms a hand-off, back to back). One connection serialises the
    hand-offs, which Redis does anyway, in arrival order; a burst of 1,000 eCalls into one
    relay was handed off in 1.4 s on it against 5.5 s through the pool, which opened a
    connection per waiting eCall. A lost connection is dialled again on the next try, as
    ``until_redis_takes`` retries."""
    return Redis.from_url(url, db=db, single_connection_client=True, health_check_interval=5,
                          socket_keepalive=True)


def _oem_redis(settings: BackendSettings) -> Redis:
    return _connect(settings.redis_url, settings.oem_db, name="oem")


def _psap_redis(settings: BackendSettings) -> Redis:
    """The PSAP domain as the ``psap`` user: the PSAP desks."""
    return _connect(settings.psap_url, settings.psap_db, name="psap")


def _relay_redis(settings: BackendSettings) -> Redis:
    """The PSAP domain as the ``relay`` user: appends to the intake streams, nothing else."""
    return _connect(settings.psap_relay_url, settings.psap_db, name="relay")


async def run_emergency(settings: BackendSettings, stop: asyncio.Event) -> None:
    warm_up()
    decode_msd(bytes.fromhex(_WARM_MSD))  # compile the ASN.1 specs before the first eCall
    oem, psap = _oem_redis(settings), _relay_redis(settings)
    counters = metrics.LANES.watch(Counters())
    client = make_client(f"backend-emergency-{settings.worker_id}", persistent=True,
                         session_expiry_s=settings.session_expiry_s, manual_ack=True,
                         receive_maximum=settings.emergency_inflight_max)

    async def meter(service: str, vin: str, size: int, at: float) -> object:
        return await budget_store.meter(oem, vin=vin, service=service, size=size, at=at,
                                        direction="up")

    handoff_oem = _handoff_redis(settings.redis_url, settings.oem_db)
    handoff_psap = _handoff_redis(settings.psap_relay_url, settings.psap_db)
    relay = EmergencyRelay(oem=StreamWriter(handoff_oem, dedup_ttl_s=settings.dedup_ttl_s),
                           psap=StreamWriter(handoff_psap, dedup_ttl_s=settings.dedup_ttl_s),
                           broker=QosOnePublisher(client), counters=counters, meter=meter)
    link = _lane_link(client, settings, oem, role="emergency", handler=relay.handle,
                      screen=safety_qos_screen(relay.refuse), subscriptions=[
        gmqtt.Subscription(ECALL_FILTER, qos=qos_of("ecall")),
        gmqtt.Subscription(VOICE_FILTER, qos=qos_of("voice")),
        gmqtt.Subscription(HV_WARN_FILTER, qos=qos_of("hv_warn")),
    ])
    await link.open(settings.mqtt_url, tls=settings.mqtt_tls("emergency"))
    log.info("emergency lane subscribed")
    await _serve_until(stop, link, counters, oem, [oem, psap, handoff_oem, handoff_psap])


async def run_bulk(settings: BackendSettings, stop: asyncio.Event) -> None:
    oem = _oem_redis(settings)
    counters = metrics.LANES.watch(Counters())
    client = make_client(f"backend-bulk-{settings.worker_id}", persistent=False)
    refusals = Refusals(QosOnePublisher(client).publish, counters)

    async def handle(topic: str, payload: bytes) -> None:
        try:
            parsed = parse_topic(topic)
            envelope = unpack(payload)
            if parsed.kind != "telemetry" or not isinstance(envelope, Telemetry):
                raise EnvelopeError("telemetry topic without a telemetry envelope", field="k",
                                    rule=TELEMETRY_KIND_RULE)
            counters.bump(keys.BULK_COUNTERS, "telemetry")
        except ProtocolError as exc:
            counters.bump(keys.ERROR_COUNTERS, f"{exc.field}:{exc.rule}")
            refusals.answer(topic, payload, exc)

    link = _lane_link(client, settings, oem, role="bulk", handler=handle, subscriptions=[
        gmqtt.Subscription(shared(BULK_SHARE_GROUP, TELEMETRY_FILTER),
                           qos=qos_of("telemetry"))])
    await link.open(settings.mqtt_url, tls=settings.mqtt_tls("bulk"))
    await _serve_until(stop, link, counters, oem, [oem])


async def run_services(settings: BackendSettings, stop: asyncio.Event) -> None:
    oem = _oem_redis(settings)
    counters = metrics.LANES.watch(Counters())
    client = make_client(f"backend-services-{settings.worker_id}", persistent=True,
                         session_expiry_s=settings.session_expiry_s, manual_ack=True,
                         receive_maximum=settings.services_inflight_max)

    def publish(topic: str, payload: bytes) -> None:
        client.publish(topic, payload, qos=1)

    desk = ServicesDesk(oem, publish=publish, counters=counters)
    # Every services worker hears the clock on its own session, among the cars' messages.
    feed = clock_feed(desk.clock, settings,
                      then=bounded(desk.handle, settings.services_inflight_max))
    link = _lane_link(client, settings, oem, role="services", handler=feed.handler,
                      subscriptions=[
        gmqtt.Subscription(TELESERVICE_FILTER, qos=qos_of("teleservice_call")),
        gmqtt.Subscription(ASSISTANCE_FILTER, qos=qos_of("assistance")),
        gmqtt.Subscription(OTA_EVENT_FILTER, qos=qos_of("ota_event")),
        *feed.subscriptions,
    ])
    await link.open(settings.mqtt_url, tls=settings.mqtt_tls("services"))
    # The OTA action timeout; safe on every worker: campaign updates run under WATCH.
    # The retention sweeper too: each record is deleted and audited once, whoever sweeps.
    loops = [asyncio.create_task(desk.ota.tick_forever(stop), name="ota-tick"),
             asyncio.create_task(sweep_forever(oem, desk.clock, stop, wake=desk.clock.changed),
                                 name="retention")]
    try:
        await _serve_until(stop, link, counters, oem, [oem])
    finally:
        for loop in loops:
            loop.cancel()
        for loop in loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop


async def run_desks(settings: BackendSettings, stop: asyncio.Event) -> None:
    decode_msd(bytes.fromhex(_WARM_MSD))  # the desks decode too; compile before the first eCall
    warm_up()  # the call centre picks the PSAP of HV warn calls
    oem, psap, relay = _oem_redis(settings), _psap_redis(settings), _relay_redis(settings)
    counters = metrics.LANES.watch(Counters())
    consumer = f"desk-{settings.worker_id}"
    prover = Prover(oem, role="desks", worker_id=settings.worker_id,
                    parts=("psap", "callcentre"))
    clock, clock_link = await listening_clock(
        settings, role="desks", client_id=f"backend-desks-clock-{settings.worker_id}",
        waiting=prover.waiting)
    psap_desks = PsapDesks(StreamGroups(psap), RedisPsapIncidents(psap), consumer=consumer,
                           counters=counters)
    callcentre = CallCentreDesk(StreamGroups(oem), RedisCallCentreCases(oem),
                                StreamWriter(relay, dedup_ttl_s=settings.dedup_ttl_s),
                                consumer=consumer, counters=counters, time_source=clock,
                                customers=ProfileContacts(oem))
    psap_desks.prover, callcentre.prover = prover.part("psap"), prover.part("callcentre")
    flusher = asyncio.create_task(counters.flush_forever(oem), name="counters")
    await psap_desks.setup()
    await callcentre.setup()
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(psap_desks.run(stop), name="psap-desks")
            group.create_task(callcentre.run(stop), name="callcentre-desk")
    finally:
        flusher.cancel()
        with contextlib.suppress(Exception):
            await counters.flush(oem)
        await disconnect(clock_link)
        for redis in (oem, psap, relay):
            await redis.aclose()


async def run_api(settings: BackendSettings, stop: asyncio.Event) -> None:
    config = uvicorn.Config(create_app(settings), host=settings.api_host, port=settings.api_port,
                            log_level="warning", lifespan="on")
    server = _ApiServer(config)
    serving = asyncio.create_task(server.serve(), name="api")
    await stop.wait()
    server.should_exit = True
    await serving


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: the role's stop event decides when to exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _lane_link(client: gmqtt.Client, settings: BackendSettings, oem: Redis, *, role: str,
               handler: MessageHandler, subscriptions: list[gmqtt.Subscription],
               screen: Screen | None = None) -> LaneLink:
    """The lane's broker session, proving itself into ``lanes:ready`` as ``role-worker``."""
    prover = Prover(oem, role=role, worker_id=settings.worker_id)
    return LaneLink(client, worker=f"{role}-{settings.worker_id}",
                    subscriptions=subscriptions, handler=handler, on_proof=prover.prove,
                    on_lost=prover.withdraw, on_waiting=prover.waiting, screen=screen)


async def _serve_until(stop: asyncio.Event, link: LaneLink, counters: Counters,
                       flush_to: Redis, close: list[Redis]) -> None:
    quiet_stop(asyncio.get_running_loop())
    flusher = asyncio.create_task(counters.flush_forever(flush_to), name="counters")
    probes = asyncio.create_task(link.probe_forever(stop), name="probes")
    try:
        await stop.wait()
    finally:
        flusher.cancel()
        probes.cancel()
        await disconnect(link.client)
        with contextlib.suppress(Exception):
            await counters.flush(flush_to)
        for redis in close:
            await redis.aclose()


RUNNERS: Final[dict[Role, Callable[[BackendSettings, asyncio.Event], Awaitable[None]]]] = {
    "emergency": run_emergency,
    "bulk": run_bulk,
    "desks": run_desks,
    "services": run_services,
    "api": run_api,
}

# EN 15722:2020 Annex A.3, used only to load the codec before traffic arrives.
_WARM_MSD: Final = "0324101A01C614A2873C52ABA870010010089AF166285C59A4C86408FE29C16C01054010F010"


# The eCall lanes win the CPU when the box is busy: under two CPU hogs the idle eCall p99
# went from 8.7 to 4.9 ms with these two at nice -5; on a quiet box it changes nothing.
ROLE_NICE: Final[dict[Role, int]] = {"emergency": -5, "desks": -5, "services": 0, "bulk": 0,
                                     "api": 0}


def raise_priority(role: Role) -> None:
    """Apply ``ROLE_NICE``; without the privilege (CAP_SYS_NICE) the role runs as it is."""
    if ROLE_NICE[role]:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, ROLE_NICE[role])
        except PermissionError:
            log.info("%s: no privilege to raise priority; running at the default", role)


# The roles that touch the PSAP domain (the relay hands off, the desks and the API read).
PSAP_ROLES: Final[frozenset[Role]] = frozenset({"emergency", "desks", "api"})


def weak_mode_warning(role: Role, settings: BackendSettings) -> str | None:
    """What a role that touches the PSAP domain says when that domain has no Redis of its
    own (pure); None when it has, or when the role never touches it. The relay is given
    only its hand-off URL (``settings_for``), so either URL shows the domain apart."""
    if role not in PSAP_ROLES or settings.psap_redis_url or settings.psap_relay_redis_url:
        return None
    return (f"{role}: no TELEMATICS_PSAP_REDIS_URL; the PSAP domain shares the OEM Redis "
            f"(database {settings.psap_db}), the weak mode of a development machine: every "
            "OEM role could read Legal eCall data there")


# How long a role stopping gets to close in order (flush its counters, close its pools)
# before what is left is cancelled: within the supervisor's own grace before SIGKILL.
ROLE_STOP_GRACE_S: Final = 3.0


async def until_stopped(runner: Awaitable[None], stop: asyncio.Event, *,
                        grace_s: float = ROLE_STOP_GRACE_S) -> None:
    """Run ``runner`` until it returns; once ``stop`` is set, give it ``grace_s`` to return
    and then cancel it. A role still waiting for its broker never looks at ``stop``, and
    without this ignored SIGTERM until the supervisor killed it."""
    running = asyncio.ensure_future(runner)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            await asyncio.wait({running}, timeout=grace_s)
        if not running.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            return
        await running
    finally:
        stopping.cancel()


def run_role(role: Role, settings: BackendSettings) -> None:
    """Run one role until SIGTERM or SIGINT."""
    raise_priority(role)
    warning = weak_mode_warning(role, settings)
    if warning is not None:
        log.warning("%s", warning)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with metrics_served(role, settings, POOLS):
            await until_stopped(RUNNERS[role](settings, stop), stop)

    asyncio.run(main())
