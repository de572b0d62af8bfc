"""The simulated cars: eCalls out at a steady rate, acknowledgements in, retransmissions.

Each car is one MQTT v5 connection with a persistent session (clean start off, a session
expiry), subscribed at QoS 1 to its own ``ecall_ack_topic``, as a TCU is: a broker restart
keeps the car's subscription and queued acknowledgements, and the client reconnects by
itself. Its identity (VIN, position, MSD, Intelligent eCall extras) is built by the
benchmark's planner from the emulator's real codecs; the cars split into Legal and
Intelligent eCall ones by ``intelligent_share``. Every eCall is a new incident with
messageIdentifier 1; a car that hears no acknowledgement within its timer publishes the
very same bytes again. A car whose connection is down (the broker restarting) publishes
nothing meanwhile: its timer sends the eCall once it is back, as a retransmission.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Final

from bench.probe import PlannedCall, plan_calls
from chaos.calls import CallRecord, due_for_retransmission
from protocols.envelope import EcallAck, EcallMessage, pack, unpack
from protocols.errors import ProtocolError
from protocols.teleservice import TeleserviceCall, packed
from protocols.topics import ecall_ack_topic, teleservice_call_topic
from vehicle_sim.mqtt_transport import Identities, TcuLink
from vehicle_sim.runner import no_identity

log = logging.getLogger(__name__)

DISCONNECT_TIMEOUT_S: Final = 5.0
MSG_ID: Final = 1


class CarFleet:
    """``cars`` simulated cars on one event loop; not thread-safe, not reentrant."""

    def __init__(self, mqtt_url: str, *, token: str, cars: int, intelligent_share: float,
                 ack_timeout_s: float, identities: Identities = no_identity) -> None:
        """``identities`` gives each car its certificate (CN = its VIN) for an ``mqtts://``
        broker, as the scenario runner's cars get theirs."""
        self._mqtt_url = mqtt_url
        self._ack_timeout_s = ack_timeout_s
        self._cars: list[PlannedCall] = plan_calls(
            cars, token=token, phase="car", first_index=0,
            intelligent_share=intelligent_share, timestamp=int(time.time()))
        self._links = [TcuLink(f"chaos-car-{token}-{i}", mqtt_url, persistent=True,
                               tls=identities(car.vin))
                       for i, car in enumerate(self._cars)]
        self._open: dict[str, CallRecord] = {}
        self._payloads: dict[str, bytes] = {}
        self._next_car = 0

    async def open(self) -> None:
        """Connect every car and wait until each is subscribed to its acknowledgements."""
        for link, car in zip(self._links, self._cars, strict=True):
            # The car's own edge: it subscribes its downlink again after every CONNACK.
            await link.open(downlink=ecall_ack_topic(car.vin), handler=self._on_message)

    async def aclose(self) -> None:
        for link in self._links:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.close(), DISCONNECT_TIMEOUT_S)

    async def _on_message(self, _topic: str, payload: bytes) -> None:
        """An acknowledgement of an open call marks it; anything else is ignored."""
        try:
            ack = unpack(payload)
        except ProtocolError:
            return
        if not isinstance(ack, EcallAck):
            return
        call = self._open.get(ack.incident)
        if call is not None and ack.msg_id == call.msg_id:
            call.acked = True

    def _publish(self, car: int, topic: str, payload: bytes) -> None:
        """QoS 1 publish; while the car has no connection nothing goes out, and the car's
        acknowledgement timer is what sends the eCall again."""
        client = self._links[car].client
        if not client.is_connected:
            return
        try:
            client.publish(topic, payload, qos=1)
        except Exception as exc:  # gmqtt raises various errors on a dead transport
            log.debug("car %d could not publish (%s); the ack timer will resend", car,
                      type(exc).__name__)

    def send(self, incident: str) -> CallRecord:
        """A new eCall from the next car in turn."""
        index = self._next_car % len(self._cars)
        self._next_car += 1
        car = self._cars[index]
        sent_ns = time.time_ns()
        payload = pack(EcallMessage(car.variant, car.vin, incident, MSG_ID, car.msd, sent_ns,
                                    car.country, car.extras))
        call = CallRecord(incident=incident, variant=car.variant, msg_id=MSG_ID, car=index,
                          sent_ns=sent_ns, last_sent_s=time.monotonic())
        self._open[incident] = call
        self._payloads[incident] = payload
        self._publish(index, car.topic, payload)
        return call

    def retransmit_due(self) -> int:
        """Send again every open eCall whose acknowledgement timer ran out; how many."""
        now = time.monotonic()
        due = due_for_retransmission(self._open.values(), now_s=now,
                                     ack_timeout_s=self._ack_timeout_s)
        for call in due:
            self._publish(call.car, self._cars[call.car].topic, self._payloads[call.incident])
            call.retransmissions += 1
            call.last_sent_s = now
        return len(due)

    def close(self, calls: list[CallRecord]) -> None:
        """The phase of these calls is judged: the cars stop waiting for them."""
        for call in calls:
            call.open = False
            self._open.pop(call.incident, None)
            self._payloads.pop(call.incident, None)

    def teleservice(self) -> None:
        """A Teleservice call from the next car, so the services lane carries traffic too."""
        index = self._next_car % len(self._cars)
        vin = self._cars[index].vin
        call = TeleserviceCall(vin, uuid.uuid4().hex[:12], "interval_28d", 30_000.0,
                               time.time_ns(), time.time(), "petrol")
        self._publish(index, teleservice_call_topic(vin), packed(call))

    async def send_stream(self, into: list[CallRecord], *, prefix: str, rate: float,
                          stop: asyncio.Event, max_s: float,
                          teleservice_every_s: float) -> int:
        """eCalls at ``rate``/s into ``into`` until ``stop`` (bounded by ``max_s`` and its
        count); a Teleservice call every ``teleservice_every_s``. Returns Teleservice calls."""
        t0 = time.perf_counter()
        max_count = int(rate * max_s) + 1
        next_teleservice = t0 + teleservice_every_s
        teleservices = 0
        while not stop.is_set() and len(into) < max_count:
            now = time.perf_counter()
            if now - t0 >= max_s:
                break
            if teleservice_every_s > 0 and now >= next_teleservice:
                self.teleservice()
                teleservices += 1
                next_teleservice += teleservice_every_s
            pause = t0 + len(into) / rate - now
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                continue
            into.append(self.send(f"{prefix}-{len(into):05d}"))
        return teleservices
