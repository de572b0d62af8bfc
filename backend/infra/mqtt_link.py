"""The backend's edge to the broker: gmqtt clients set up the way the eCall lane needs.

A lane's subscriptions are the lane's, not the broker's: ``LaneLink`` sends them again
on every connection acknowledgement, whatever the broker says about the session.
Mosquitto 2.0 forgets ``$share`` subscriptions across its own restart while still
answering "session present"; a lane that trusted that flag stayed deaf until restarted
by hand (docs/architecture.md, "What the lanes rely on from the broker").

gmqtt parses each read chunk in bulk and runs on asyncio transports, which set
TCP_NODELAY; paho-based clients cost about 3x the CPU per message and leave Nagle on
(see the performance notes in the README). Persistent sessions (clean_session False
with a session expiry) let the broker keep QoS 1 messages while a worker restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from protocols.addresses import MqttTls, mqtt_address, mqtt_ssl
from protocols.topics import probe_topic

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], Awaitable[None]]
Screen = Callable[[str, bytes, int], bool]  # topic, payload, QoS; True: refused already
ProofHandler = Callable[[], Awaitable[None]]
WaitingSignal = Callable[[], None]
PROBE_INTERVAL_S: Final = 1.0
CONNECT_RETRY_FIRST_S: Final = 0.5
CONNECT_RETRY_MAX_S: Final = 5.0
CONNECT_REMIND_S: Final = 60.0


class ReconnectLines(logging.Filter):
    """gmqtt's own lines about a lost broker, said the way ``connect`` says them.

    Once connected, gmqtt reconnects by itself every second and logs a warning for each
    failed attempt, with a traceback for the lost connection: a broker outage of a minute
    was five roles times sixty lines. This filter on gmqtt's loggers turns the lost
    connection into one line without a traceback, lets the first failed attempt through
    naming the broker, then one line a minute with the count, and ``reconnected`` closes
    the episode; the other lines of gmqtt pass unchanged."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 every_s: float = CONNECT_REMIND_S) -> None:
        super().__init__()
        self.broker = "the broker"
        self.attempts = 0
        self._clock = clock
        self._every_s = every_s
        self._unsaid = 0
        self._since: float | None = None
        self._said_at = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.msg if isinstance(record.msg, str) else ""
        if text.startswith("[EXC: CONN LOST]"):
            exc = record.exc_info[1] if record.exc_info else None
            self._say(record, "lost the connection to %s (%s); reconnecting", self.broker,
                      type(exc).__name__ if exc is not None else "closed")
            return True
        if not text.startswith("[Client] failed to reconnect"):
            return True
        now = self._clock()
        self.attempts += 1
        if self._since is None:
            self._since, self._said_at, self._unsaid = now, now, 0
            reason = record.args[-1] if isinstance(record.args, tuple) and record.args else ""
            self._say(record, "cannot reach %s again (%s); reconnecting every second, said "
                      "again once a minute", self.broker, _reason(reason))
            return True
        self._unsaid += 1
        if now - self._said_at < self._every_s:
            return False
        self._say(record, "still cannot reach %s: %d attempts in the last %.0f s, %.0f s "
                  "since the first", self.broker, self._unsaid, now - self._said_at,
                  now - self._since)
        self._said_at, self._unsaid = now, 0
        return True

    def reconnected(self) -> str | None:
        """The broker took a connection again: the closing line, if attempts had failed."""
        if self._since is None:
            return None
        line = (f"reached {self.broker} again after {self.attempts} failed attempts in "
                f"{self._clock() - self._since:.0f} s")
        self._since, self.attempts, self._unsaid = None, 0, 0
        return line

    @staticmethod
    def _say(record: logging.LogRecord, message: str, *args: object) -> None:
        record.msg, record.args = message, args
        record.exc_info, record.exc_text = None, None


def _reason(exc: object) -> str:
    return (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) else str(exc)


RECONNECTS: Final = ReconnectLines()
GMQTT_LOGGERS: Final = ("gmqtt.client", "gmqtt.mqtt.protocol")


def _quiet_reconnects() -> None:
    for name in GMQTT_LOGGERS:
        logger = logging.getLogger(name)
        if RECONNECTS not in logger.filters:
            logger.addFilter(RECONNECTS)


def make_client(
    client_id: str,
    *,
    persistent: bool,
    session_expiry_s: int = 3600,
    manual_ack: bool = False,
    receive_maximum: int | None = None,
) -> gmqtt.Client:
    """A gmqtt client; ``manual_ack`` sends PUBACK only after the handler returns."""
    kwargs: dict[str, Any] = {}
    if persistent:
        kwargs["session_expiry_interval"] = session_expiry_s
    if receive_maximum is not None:
        kwargs["receive_maximum"] = receive_maximum
    client = gmqtt.Client(
        client_id,
        clean_session=not persistent,
        optimistic_acknowledgement=not manual_ack,
        **kwargs,
    )
    client.set_config({"reconnect_retries": -1, "reconnect_delay": 1})
    _quiet_reconnects()
    return client


def on_messages(client: gmqtt.Client, handler: MessageHandler, *,
                screen: Screen | None = None) -> None:
    """Route every inbound message to ``handler``; PUBACK (if manual) follows its return.

    The handler owns its errors; anything that still escapes is logged and the
    message is acknowledged as a failure so one bad message cannot wedge the session.
    ``screen`` sees the delivery first, with the QoS gmqtt received it at (the QoS the
    car published with, never above the subscription's), and may refuse it there.
    """

    async def _on_message(_c: gmqtt.Client, topic: str, payload: bytes, qos: int,
                          _props: Any) -> int:
        if screen is not None and screen(topic, payload, qos):
            return 0
        try:
            await handler(topic, payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handler failed")
            return 0x80  # unspecified error
        return 0

    client.on_message = _on_message


def quiet_stop(loop: asyncio.AbstractEventLoop) -> None:
    """Say once, not once per message, that deliveries in flight at a stop are left
    unacknowledged.

    A lane stopped while its handlers wait (a fleet's calls queued at the ``bounded``
    gate) has them cancelled; gmqtt then reads each cancelled handler in a callback, and
    asyncio printed one traceback per message, hundreds at a time. Leaving them
    unacknowledged is right (the broker redelivers them to the next worker), so this is
    said in one line; any other error in a callback is reported as before."""
    previous = loop.get_exception_handler()
    said = False

    def handle(running: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal said
        if (isinstance(context.get("exception"), asyncio.CancelledError)
                and "publish_callback" in str(context.get("message", ""))):
            if not said:
                said = True
                log.info("stopping: deliveries in flight are left unacknowledged; the "
                         "broker redelivers them")
            return
        if previous is not None:
            previous(running, context)
        else:
            running.default_exception_handler(context)

    loop.set_exception_handler(handle)


def bounded(handler: MessageHandler, limit: int) -> MessageHandler:
    """``handler`` run for at most ``limit`` messages at a time; the rest wait their turn
    unacknowledged, so the broker holds what follows.

    A session's Receive Maximum alone did not bound the services lane: in one
    ``teleservice_month`` run its handlers held all 2,048 connections of its Redis pool,
    each new connection costing a parse of package metadata, until the lane could no
    longer prove itself and was killed, again and again, storing nothing."""
    gate = asyncio.Semaphore(limit)

    async def one_at_a_slot(topic: str, payload: bytes) -> None:
        async with gate:
            await handler(topic, payload)

    return one_at_a_slot


def broker_named(url: str) -> str:
    """The broker as a log line may name it: scheme, host and port, never credentials."""
    host, port = mqtt_address(url)
    return f"{urlsplit(url).scheme}://{host}:{port}"


async def connect(client: gmqtt.Client, url: str, *, tls: MqttTls | None = None,
                  keepalive: int = 30, waiting: WaitingSignal | None = None) -> None:
    """Connect to ``url``; an ``mqtts://`` broker gets ``tls``, the role's certificate.

    A broker that cannot be reached yet (down, not started, wrong port, refused TLS) is
    waited for with a backoff, said in one line naming it and then once a minute: a
    backend started before its broker comes up when the broker does, instead of
    crashing its roles into a restart loop of tracebacks that never name the broker.
    ``waiting`` is called every ``PROBE_INTERVAL_S`` until connected (even while one
    attempt hangs): the supervisor's watchdog hears that the worker waits, not hangs."""
    if waiting is None:
        await _connect_patiently(client, url, tls=tls, keepalive=keepalive)
        return
    ticking = asyncio.create_task(_tick(waiting), name="waiting-for-broker")
    try:
        await _connect_patiently(client, url, tls=tls, keepalive=keepalive)
    finally:
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking


async def _tick(waiting: WaitingSignal) -> None:
    while True:
        waiting()
        await asyncio.sleep(PROBE_INTERVAL_S)


async def _connect_patiently(client: gmqtt.Client, url: str, *, tls: MqttTls | None,
                             keepalive: int) -> None:
    host, port = mqtt_address(url)
    delay, since, said_at = CONNECT_RETRY_FIRST_S, 0.0, 0.0
    while True:
        try:
            await client.connect(host, port, ssl=mqtt_ssl(url, tls), keepalive=keepalive,
                                 version=MQTTv50)
        except (OSError, TimeoutError) as exc:
            now = time.monotonic()
            if not since:
                since = said_at = now
                log.error("cannot reach the broker at %s (%s); trying again every %.0f s at "
                          "most", broker_named(url), exc.strerror or type(exc).__name__,
                          CONNECT_RETRY_MAX_S)
            elif now - said_at >= CONNECT_REMIND_S:
                said_at = now
                log.error("still cannot reach the broker at %s after %.0f s",
                          broker_named(url), now - since)
            await asyncio.sleep(delay)
            delay = min(delay * 2, CONNECT_RETRY_MAX_S)
            continue
        if since:
            log.warning("reached the broker at %s after %.1f s", broker_named(url),
                        time.monotonic() - since)
        return


async def disconnect(client: gmqtt.Client) -> None:
    """Close the session. Over TLS a message still arriving after our close_notify makes
    the SSL layer raise; the connection is closed all the same, and a role's shutdown
    (its final counter flush, its Redis pools) must not be skipped for it."""
    try:
        await client.disconnect()
    except ssl.SSLError as exc:
        log.debug("TLS close reported %s; the session is closed", exc.reason)


class LaneLink:
    """One backend worker's broker session: subscribed on every CONNACK, proved by probes.

    ``subscriptions`` are sent again after each connection acknowledgement (and the
    SUBACK checked: a refused filter leaves the link unproved and is retried on the next
    connection). Every ``PROBE_INTERVAL_S`` the worker publishes to its own probe topic;
    when the probe comes back through the same session and handler path, ``on_proof``
    runs (it records readiness in Redis). A lane that is deaf, stalled or cut off stops
    proving itself within seconds; ``backend.infra.readiness`` and the supervisor act on that.
    """

    def __init__(self, client: gmqtt.Client, *, worker: str,
                 subscriptions: list[gmqtt.Subscription], handler: MessageHandler,
                 on_proof: ProofHandler | None = None,
                 on_lost: ProofHandler | None = None,
                 on_waiting: WaitingSignal | None = None,
                 screen: Screen | None = None) -> None:
        self.client = client
        self._on_waiting = on_waiting
        self.probe_topic = probe_topic(worker)
        # QoS 0: a probe must not wait behind the lane's Receive Maximum window, which a
        # Redis outage fills with unacknowledged messages; the supervisor would then kill a
        # worker that is only waiting. Readiness still goes red: the proof needs Redis.
        self._subscriptions = [*subscriptions, gmqtt.Subscription(self.probe_topic, qos=0)]
        self._handler = handler
        self._on_proof = on_proof
        self._on_lost = on_lost
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_mid: int | None = None
        self.subscribed = asyncio.Event()  # the current connection's SUBACK granted all
        self.connections = 0
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        on_messages(client, self._dispatch, screen=screen)

    def _on_connect(self, client: gmqtt.Client, _flags: int, _rc: int, _props: Any) -> None:
        self.connections += 1
        self.subscribed.clear()
        ours = {s.topic for s in self._subscriptions}
        # gmqtt keeps every subscribe() in a list; drop ours so reconnects do not grow it.
        client.subscriptions = [s for s in client.subscriptions if s.topic not in ours]
        self._pending_mid = client.subscribe(
            [gmqtt.Subscription(s.topic, qos=s.qos) for s in self._subscriptions])
        if self.connections > 1:
            if (line := RECONNECTS.reconnected()) is not None:
                log.warning("%s", line)
            log.warning("broker connection %d: subscriptions sent again", self.connections)

    def _on_subscribe(self, _client: gmqtt.Client, mid: int, granted: Any, _props: Any) -> None:
        if mid != self._pending_mid:
            return
        refused = [s.topic for s, code in zip(self._subscriptions, granted, strict=False)
                   if code >= 0x80]
        if refused:
            log.error("broker refused subscriptions %s", refused)
            return
        self.subscribed.set()

    def _on_disconnect(self, _client: gmqtt.Client, _packet: Any, _exc: Any = None) -> None:
        """The path is broken now: withdraw the proof at once (``on_lost``) rather than let
        readiness stay green until it goes stale."""
        self.subscribed.clear()
        if self._on_lost is not None:
            task = asyncio.ensure_future(self._on_lost())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, topic: str, payload: bytes) -> None:
        if topic == self.probe_topic:
            if self._on_proof is not None and self.subscribed.is_set():
                await self._on_proof()
            return
        await self._handler(topic, payload)

    async def open(self, url: str, *, tls: MqttTls | None = None,
                   timeout_s: float = 10.0) -> None:
        """Connect (with ``tls``, the worker's certificate, on an ``mqtts://`` broker) and
        wait until the broker granted every subscription; ``on_waiting`` hears, every
        ``PROBE_INTERVAL_S``, that the broker is still being waited for."""
        RECONNECTS.broker = broker_named(url)
        await connect(self.client, url, tls=tls, waiting=self._on_waiting)
        await asyncio.wait_for(self.subscribed.wait(), timeout_s)

    async def probe_forever(self, stop: asyncio.Event) -> None:
        """Publish a probe every interval until ``stop``; proofs arrive via ``_dispatch``."""
        while not stop.is_set():
            if self.subscribed.is_set():
                self.client.publish(self.probe_topic, b"", qos=0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_INTERVAL_S)


class QosOnePublisher:
    """Publishes on a client at QoS 1: what a lane sends a car (an eCall's acknowledgement)
    must arrive, and the client's session keeps it while the broker is away."""

    def __init__(self, client: gmqtt.Client) -> None:
        self._client = client

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1)
