"""A third-party TCU against the running backend, written from docs/wire-contract.md alone.

The car is paho-mqtt with its own certificate (CN = its VIN) from the tests' local PKI,
and msgpack: its messages are built from the document's topics and fields and its golden
readings (docs/wire-examples/*.json), never by this project's encoders, and every answer
it expects is a field and rule the document states. The lanes run in this test's loop,
so every blocking paho call runs in a thread.
"""

from __future__ import annotations

import asyncio
import json
import queue
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from backend.runtime.roles import run_bulk, run_desks, run_emergency, run_services
from tests.backend.support import Lanes, new_vin, signer
from tests.brokers import client_address
from tests.doc_anchors import ROOT

DOC = (ROOT / "docs" / "wire-contract.md").read_text(encoding="utf-8")
WAIT_S = 20.0  # generous: the lanes share two busy cores with other work
Inbound = tuple[str, dict[str, Any]]


def _golden(name: str) -> dict[str, Any]:
    """The fields of a golden reading, as an integrator copies them from docs/."""
    reading = json.loads((ROOT / "docs" / "wire-examples" / f"{name}.json").read_text())
    fields: dict[str, Any] = reading["fields"]
    return fields


GOLDEN_ECALL = _golden("ecall_intelligent")
VIN = GOLDEN_ECALL["vin"]  # the golden MSD names this car


def documented(field: str, rule: str) -> tuple[str, str]:
    """``(field, rule)``, after checking the document states that refusal."""
    cell = rule.replace("|", "\\|")
    assert (f"| `{field}` | {cell} |" in DOC
            or f"field `{field}` and rule `{rule}`" in DOC), (field, rule)
    return field, rule


def ecall(*, incident: str, vin: str = VIN) -> bytes:
    """An Intelligent eCall envelope: header ``v``/``k`` and the golden's fields."""
    body = {**GOLDEN_ECALL, "v": 1, "k": "ecall", "vin": vin, "incident": incident,
            "msd": bytes.fromhex(GOLDEN_ECALL["msd"]["hex"]), "sent_ns": time.time_ns()}
    return msgpack.packb(body, use_bin_type=True)


class PahoTcu:
    """One car's MQTT 5 session over TLS, subscribed to ``cmd/v1/{vin}/#`` and ``extra``."""

    def __init__(self, mqtt_url: str, vin: str, *, extra: tuple[str, ...] = ()) -> None:
        self.vin = vin
        self._address = client_address(mqtt_url, vin)
        self._topics = (f"cmd/v1/{vin}/#", *extra)
        self.inbox: queue.Queue[Inbound] = queue.Queue()
        self.seen: list[Inbound] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"tcu-{vin}-{uuid.uuid4().hex[:6]}",
                                  protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: self._subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        self.inbox.put((message.topic, msgpack.unpackb(message.payload, raw=False)))

    def _open(self) -> None:
        host, port, tls = self._address
        if isinstance(tls, ssl.SSLContext):
            self.client.tls_set_context(tls)
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe([(topic, 1) for topic in self._topics])
        assert self._subscribed.wait(WAIT_S), "no SUBACK"

    async def open(self) -> PahoTcu:
        await asyncio.to_thread(self._open)
        return self

    async def close(self) -> None:
        await asyncio.to_thread(self.client.disconnect)
        await asyncio.to_thread(self.client.loop_stop)

    def publish(self, topic: str, payload: bytes, *, qos: int) -> None:
        self.client.publish(topic, payload, qos=qos)

    async def next(self) -> Inbound:
        """The next downlink, in the order the broker delivered them; kept in ``seen``."""
        inbound = await asyncio.to_thread(self.inbox.get, True, WAIT_S)
        self.seen.append(inbound)
        return inbound

    async def answer(self, kind: str, **identity: object) -> dict[str, Any]:
        """The first downlink of ``kind`` (``ecall_ack``, ``rejected``) carrying
        ``identity``; what comes before it stays in ``seen`` for the test to judge."""
        while True:
            topic, body = await self.next()
            if body.get("k") == kind and all(body.get(k) == v for k, v in identity.items()):
                assert topic == f"cmd/v1/{self.vin}/{kind.replace('ecall_', 'ecall/')}"
                assert body["v"] == 1
                return body


@pytest.fixture
async def backend(mqtt_url: str, redis_url: str, psap_redis_url: str,
                  psap_relay_redis_url: str) -> AsyncIterator[Lanes]:
    """Every lane a car's uplinks reach: emergency (and its desks), services, bulk."""
    running = Lanes(signer().settings(
        mqtt_url=mqtt_url, redis_url=redis_url, psap_redis_url=psap_redis_url,
        psap_relay_redis_url=psap_relay_redis_url, worker_id=uuid.uuid4().hex[:8]))
    roles = {"emergency": run_emergency, "desks": run_desks, "services": run_services,
             "bulk": run_bulk}
    for name, runner in roles.items():
        running.start_role(name, runner)
    await running.wait_ready(*roles, timeout_s=WAIT_S)
    yield running
    for name in list(running.tasks):
        await running.stop_role(name)
    await running.forget_sessions()


async def test_third_party_tcu_is_acked_or_told_the_field_and_rule(
        backend: Lanes, mqtt_url: str) -> None:
    other = new_vin()
    car = await PahoTcu(mqtt_url, VIN).open()
    # Another car tries to read this car's answers: the ACL must give it nothing.
    snoop = await PahoTcu(mqtt_url, other, extra=(f"cmd/v1/{VIN}/#", "cmd/v1/+/rejected")
                          ).open()
    ecall_topic = f"tcu/v1/{VIN}/ecall/intelligent"
    run = uuid.uuid4().hex[:8]
    try:
        # A valid eCall at QoS 1 is acknowledged.
        car.publish(ecall_topic, ecall(incident=f"ok-{run}"), qos=1)
        ack = await car.answer("ecall_ack", incident=f"ok-{run}")
        assert ack["msg_id"] == 1

        # Malformed: an empty incident (the eCall's documented refusal).
        car.publish(ecall_topic, ecall(incident=""), qos=1)
        answer = await car.answer("rejected", topic=ecall_topic, field="incident")
        assert answer["rule"] == documented("incident", "1..64 chars")[1]
        assert answer["message_id"] == "1"

        # Wrong VIN: the envelope names another car than the topic (VIN consistency).
        car.publish(ecall_topic, ecall(incident=f"vin-{run}", vin=other), qos=1)
        answer = await car.answer("rejected", incident=f"vin-{run}")
        assert (answer["field"], answer["rule"]) == documented(
            "vin", "envelope vin/variant == topic")

        # A valid eCall at QoS 0 is refused for its QoS.
        car.publish(ecall_topic, ecall(incident=f"qos0-{run}"), qos=0)
        answer = await car.answer("rejected", incident=f"qos0-{run}")
        assert (answer["field"], answer["rule"]) == documented("qos", "safety_needs_qos1")

        # The services and bulk lanes answer too.
        call = {**_golden("teleservice_call"), "vin": VIN, "reason": "whim"}
        car.publish(f"tcu/v1/{VIN}/teleservice/call", msgpack.packb(call), qos=1)
        answer = await car.answer("rejected", message_id=call["call_id"])
        assert (answer["field"], answer["rule"]) == documented(
            "reason", "interval_28d|distance_1000km|service_need")
        status = {**_golden("telemetry"), "v": 1, "k": "telemetry", "vin": VIN, "lat": "50.8"}
        car.publish(f"tcu/v1/{VIN}/telemetry", msgpack.packb(status), qos=0)
        answer = await car.answer("rejected", topic=f"tcu/v1/{VIN}/telemetry")
        assert (answer["field"], answer["rule"]) == documented("envelope.lat", "type float")

        # The snooping car hears its own answer; none of the car's came to it before that.
        snoop.publish(f"tcu/v1/{other}/telemetry", b"\xc1", qos=0)
        await snoop.answer("rejected", topic=f"tcu/v1/{other}/telemetry")
        assert {topic for topic, _ in snoop.seen} == {f"cmd/v1/{other}/rejected"}
        # A refused eCall is never acknowledged: the only acknowledgement is the valid one's.
        acks = [body["incident"] for _, body in car.seen if body.get("k") == "ecall_ack"]
        assert acks == [f"ok-{run}"]
    finally:
        await car.close()
        await snoop.close()
