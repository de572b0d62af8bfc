"""A car as a Locust user: one MQTT connection per car, driven by one greenlet.

Each user is a car (``loadtest.fleet_car``) with its own paho-mqtt client: client id =
VIN, its own certificate when the broker asks for TLS, a persistent session (clean start
off, a session expiry), and its downlink subscribed after every CONNACK. Nothing is
published before the CONNACK and the SUBACK: until then messages wait in the car's
outbox, timed from when they were due.

paho's threaded loop opens a socket pair per client (two more loopback sockets, and an
ephemeral port each on the listening side); this runs paho's external-loop interface
(``loop_read``/``loop_write``/``loop_misc``) on gevent's readiness waits instead, so a
car costs one socket and one greenlet, which also runs its timetable and its timers.
Not on ``select.select``: even patched, gevent's first checks with the system's
``select``, which refuses descriptors above 1,023, so the 1,024th car spun for ever.
Only the Locust process imports this module: gevent has patched the standard library
there before anything else is imported.

A reconnecting car offers the TLS session of its last handshake (a TLS 1.3 ticket from
the broker), as TCUs do to spare their modem and the broker: a resumed handshake skips
the certificate signatures and verifications and costs the broker's one thread less
than half of a full one. Its retries are spread by full jitter (a random wait up to the
backoff), so a fleet that lost the network together does not retry in the same second.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import paho.mqtt.client as paho
from gevent import socket as gevent_socket
from locust import User, task
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from loadtest.fleet_car import FleetCar
from loadtest.recorder import Recorder
from loadtest.run_plan import RunPlan
from loadtest.schedule import Planned, car_profile, fleet_index
from loadtest.schedule import plan as timetable
from pki.authority import CertificateAuthority
from protocols.addresses import MqttTls, mqtt_address, mqtt_uses_tls
from protocols.topics import vehicle_commands_filter

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 3600
# Sized for a storm: 10,000 cars reconnecting queue for the broker's one thread, and a
# car that gives up early only adds a handshake to the queue (paho's socket and handshake
# timeout is 5 s unless set).
CONNACK_TIMEOUT_S = 30.0
RECONNECT_MIN_S = 2.0
RECONNECT_MAX_S = 60.0
POLL_S = 5.0  # the longest a car sleeps: keep-alive and the CONNACK wait are checked this often


class Run:
    """What every car of this process shares: the plan, the recorder, the start time."""

    plan: ClassVar[RunPlan | None] = None
    recorder: ClassVar[Recorder | None] = None
    started_ns: ClassVar[int] = 0
    worker: ClassVar[int] = 0
    cars: ClassVar[itertools.count[int]] = itertools.count()
    virtual_start: ClassVar[float] = 0.0

    @classmethod
    def begin(cls, plan: RunPlan, recorder: Recorder, *, worker: int) -> None:
        cls.plan, cls.recorder, cls.worker = plan, recorder, worker
        cls.started_ns = time.time_ns()
        cls.virtual_start = time.time()
        cls.cars = itertools.count()

    @classmethod
    def clock(cls) -> float:
        """The fleet's virtual time: the real time since the start, compressed."""
        assert cls.plan is not None
        speed = cls.plan.profile.traffic.clock_speed
        return cls.virtual_start + (time.time_ns() - cls.started_ns) / 1e9 * speed


@functools.lru_cache(maxsize=4)
def _authority(directory: str) -> CertificateAuthority:
    """The CA, read once per process rather than once per car."""
    return CertificateAuthority(Path(directory))


def _identity(plan: RunPlan, vin: str) -> MqttTls | None:
    if not mqtt_uses_tls(plan.broker_url):
        return None
    if plan.identities_dir:
        root = Path(plan.identities_dir)
        return MqttTls(root / "ca.crt", root / f"{vin}.crt", root / f"{vin}.key")
    if not plan.ca_dir:
        raise RuntimeError(f"{plan.broker_url} wants TLS: give a CA or identities directory")
    return _authority(plan.ca_dir).issue(vin)


class ResumingClient(paho.Client):
    """paho's client, offering the TLS session of its last handshake on the next one.

    paho wraps its socket in ``_ssl_wrap_socket`` with no way to hand a session in; this
    is that method with ``session=``. The session is taken after the CONNACK (``keep_session``),
    when TLS 1.3's ticket, sent after the handshake, has been read.
    """

    tls_session: ssl.SSLSession | None = None

    def _ssl_wrap_socket(self, tcp_sock: socket.socket) -> ssl.SSLSocket:
        context = self._ssl_context
        assert context is not None and context.check_hostname
        ssl_sock = context.wrap_socket(tcp_sock, server_hostname=self._host,
                                       do_handshake_on_connect=False, session=self.tls_session)
        ssl_sock.settimeout(self._connect_timeout)
        ssl_sock.do_handshake()
        return ssl_sock

    def keep_session(self) -> bool | None:
        """Keep this connection's session for the next; whether it was itself resumed
        (None without TLS)."""
        sock = self.socket()
        if not isinstance(sock, ssl.SSLSocket):
            return None
        self.tls_session = sock.session
        return sock.session_reused


class CarLink:
    """One car's paho client on an external loop, with its outbox and reconnects."""

    def __init__(self, plan: RunPlan, vin: str, index: int, recorder: Recorder,
                 on_message: Callable[[str, bytes], None]) -> None:
        self.vin = vin
        self._recorder = recorder
        self._on_message = on_message
        self._host, self._port = mqtt_address(plan.broker_url)
        sources = plan.source_addresses
        self._bind = sources[index % len(sources)] if sources else ""
        self._keepalive = plan.keepalive_s
        client = ResumingClient(CallbackAPIVersion.VERSION2, client_id=vin,
                                protocol=paho.MQTTv5)
        client.connect_timeout = CONNACK_TIMEOUT_S
        tls = _identity(plan, vin)
        if tls is not None:
            client.tls_set_context(tls.context())
        client.on_connect = self._connected
        client.on_subscribe = self._subscribed
        client.on_publish = self._published
        client.on_message = self._message
        client.on_disconnect = self._disconnected
        self._client = client
        self.ready = False
        self._live = False  # counted as connected
        self._connect_due_ns = 0
        self._connect_sent = 0.0  # when this attempt's CONNECT went out
        self._connacked = False
        self._subscribe_mid: int | None = None
        self._outbox: list[tuple[str, bytes, int]] = []
        self.down_until: float | None = None  # no connection attempt before this
        self._backoff = RECONNECT_MIN_S

    # -- connecting ---------------------------------------------------------------------
    def connect(self, scheduled_ns: int) -> None:
        """Open the connection; the CONNACK (or its absence) is seen by ``pump``."""
        self._connect_due_ns = scheduled_ns
        self._recorder.expect("connect", self.vin, scheduled_ns)
        self._recorder.count("connect_attempts")
        self._connacked = False
        self.down_until = None
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        try:
            self._client.connect(self._host, self._port, keepalive=self._keepalive,
                                 bind_address=self._bind, clean_start=False,
                                 properties=properties)
        except (OSError, ssl.SSLError) as exc:
            self._failed(f"connect: {exc}")
            return
        # The TCP connect and the TLS handshake had their own timeout (``connect_timeout``);
        # the CONNACK's is counted from here, and nothing after the CONNACK has one: a car
        # whose SUBACK is slow under a storm is not torn down and sent to the back of it.
        self._connect_sent = time.monotonic()

    def _failed(self, why: str) -> None:
        """This attempt is over without a CONNACK: counted, closed, retried later."""
        self._attempt_failed(why)
        self._drop()

    def _attempt_failed(self, why: str) -> None:
        if self._recorder.waiting("connect", self.vin):
            self._recorder.count("connect_failed")
            self._recorder.forget("connect", self.vin)
        log.debug("%s: %s", self.vin, why)
        self.down_until = time.monotonic() + self._jittered()
        self._backoff = min(RECONNECT_MAX_S, self._backoff * 2)

    def _jittered(self) -> float:
        """Full jitter: anywhere up to the backoff, so the fleet spreads its retries."""
        return random.uniform(0.0, self._backoff)

    def _connected(self, client: paho.Client, _userdata: Any, _flags: Any,
                   reason: ReasonCode, _properties: Any) -> None:
        if reason.is_failure:
            # The broker closes the connection after a refusing CONNACK; paho sees it.
            self._attempt_failed(f"CONNACK {reason}")
            return
        self._recorder.done("connect", self.vin)
        self._connacked = True
        self._backoff = RECONNECT_MIN_S
        resumed = self._client.keep_session()
        if resumed is not None:
            self._recorder.count("tls_resumed" if resumed else "tls_full")
        # Subscribe after every CONNACK: a restarted broker may have lost the session.
        _rc, self._subscribe_mid = client.subscribe(vehicle_commands_filter(self.vin), qos=1)

    def _subscribed(self, _client: paho.Client, _userdata: Any, mid: int,
                    reasons: list[ReasonCode], _properties: Any) -> None:
        if mid != self._subscribe_mid:
            return
        if any(r.is_failure for r in reasons):
            self._recorder.count("subscribe_refused")
        self.ready = True
        if not self._live:
            self._live = True
            self._recorder.gauge("connected", 1)
        outbox, self._outbox = self._outbox, []
        for topic, payload, scheduled_ns in outbox:
            self.publish(topic, payload, scheduled_ns)

    def _disconnected(self, _client: paho.Client, _userdata: Any, _flags: Any,
                      reason: ReasonCode, _properties: Any) -> None:
        if self.ready:
            self._recorder.count("connection_lost")
        else:  # closed before the CONNACK: a TLS refusal, a broker at its limit
            self._attempt_failed(f"closed before CONNACK: {reason}")
        self._lost()

    def _lost(self) -> None:
        self.ready = False
        if self._live:
            self._live = False
            self._recorder.gauge("connected", -1)
        if self.down_until is None:
            self.down_until = time.monotonic() + self._jittered()

    def _drop(self) -> None:
        sock = self._client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        self._client._sock = None  # paho keeps the dead socket otherwise
        self._lost()

    def cut(self, until: float) -> None:
        """The network goes away: the socket dies without a DISCONNECT, as in a tunnel."""
        if self._client.socket() is not None:
            self._recorder.count("storm_cuts")
        self._drop()
        self.down_until = until

    # -- traffic ------------------------------------------------------------------------
    def publish(self, topic: str, payload: bytes, scheduled_ns: int) -> None:
        if not self.ready:
            self._outbox.append((topic, payload, scheduled_ns))
            return
        info = self._client.publish(topic, payload, qos=1)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            self._recorder.count("publish_refused")
            return
        self._recorder.count("published")
        self._recorder.expect("puback", (self.vin, info.mid), scheduled_ns)

    def _published(self, _client: paho.Client, _userdata: Any, mid: int, reason: ReasonCode,
                   _properties: Any) -> None:
        if reason.is_failure:
            self._recorder.count("puback_refused")
            self._recorder.forget("puback", (self.vin, mid))
            return
        self._recorder.done("puback", (self.vin, mid))

    def _message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        self._on_message(message.topic, bytes(message.payload))

    # -- the loop -----------------------------------------------------------------------
    def pump(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the socket, then read, write and keep alive."""
        sock = self._client.socket()
        now = time.monotonic()
        if sock is None:
            if self.down_until is not None and now >= self.down_until:
                # Timed from when the car meant to reconnect, however late it got to it.
                self.connect(time.time_ns() - int((now - self.down_until) * 1e9))
            else:
                wait = timeout_s if self.down_until is None else min(timeout_s,
                                                                    self.down_until - now)
                time.sleep(max(0.0, wait))
            return
        if not self._connacked and now - self._connect_sent > CONNACK_TIMEOUT_S:
            self._failed("no CONNACK")
            return
        wait = (gevent_socket.wait_readwrite if self._client.want_write()
                else gevent_socket.wait_read)
        with contextlib.suppress(TimeoutError):
            if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                wait(sock.fileno(), timeout=max(0.0, timeout_s))
        # Both calls are non-blocking: paho reads what is there and writes what it can.
        self._client.loop_read(100)
        if self._client.want_write():
            self._client.loop_write()
        self._client.loop_misc()

    def close(self) -> None:
        """The run is over: a clean DISCONNECT, not counted as a lost connection."""
        self.ready = False
        if self._client.socket() is not None:
            self._client.disconnect()
        self._lost()


class CarUser(User):
    """A car: connects at its spawn, then lives its timetable until the run ends."""

    abstract = False

    @task
    def live(self) -> None:
        plan, recorder = Run.plan, Run.recorder
        assert plan is not None and recorder is not None
        local = next(Run.cars)
        index = fleet_index(local, worker=Run.worker, workers=plan.workers)
        profile = car_profile(plan.profile, index)
        timers: list[tuple[float, int, Callable[[], None]]] = []
        seq = itertools.count()

        def call_later(delay_s: float, fn: Callable[[], None]) -> None:
            heapq.heappush(timers, (time.monotonic() + delay_s, next(seq), fn))

        link = CarLink(plan, profile.vin, index, recorder,
                       lambda topic, payload: car.on_downlink(topic, payload))
        car = FleetCar(plan.profile, profile, send=link.publish, call_later=call_later,
                       recorder=recorder, clock=Run.clock)
        self._link = link
        spawned_s = (time.time_ns() - Run.started_ns) / 1e9
        # The run's start on the monotonic clock, taken before the (blocking) connect: taken
        # after it, every act of the car fired a handshake's time after its schedule, and
        # that delay was counted as the broker's (PUBACK p50 ~80 ms on an idle machine).
        mono_start = time.monotonic() - spawned_s
        link.connect(time.time_ns())
        for planned in timetable(plan.profile, profile, start_s=spawned_s):
            call_later(max(0.0, mono_start + planned.at_s - time.monotonic()),
                       _action(car, link, planned, Run.started_ns, mono_start))
        while True:
            now = time.monotonic()
            while timers and timers[0][0] <= now:
                heapq.heappop(timers)[2]()
                now = time.monotonic()
            next_due = timers[0][0] - now if timers else POLL_S
            link.pump(min(POLL_S, max(0.0, next_due)))

    def on_stop(self) -> None:
        link: CarLink | None = getattr(self, "_link", None)
        if link is not None:
            link.close()


def _action(car: FleetCar, link: CarLink, planned: Planned, started_ns: int,
            mono_start: float) -> Callable[[], None]:
    """What to do at ``planned.at_s``: the car's act, or the network's storm."""
    scheduled_ns = started_ns + int(planned.at_s * 1e9)

    def run() -> None:
        if planned.action == "disconnect":
            link.cut(until=float("inf"))
        elif planned.action == "reconnect":
            link.down_until = mono_start + planned.at_s
        else:
            car.act(planned, scheduled_ns)
    return run
