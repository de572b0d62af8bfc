"""The load generator's hand-made MQTT is checked against a real broker and gmqtt."""

from __future__ import annotations

import asyncio

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from bench.loadgen import LoadPlan, LoadTls, generate, telemetry_payload
from cli.local_services import LocalServices
from pki.identities import BENCH
from protocols.addresses import mqtt_address
from protocols.envelope import Telemetry, unpack
from protocols.topics import TELEMETRY_FILTER, parse_topic
from tests.security.peers import Peer, until


def test_loadgen_payload_is_a_contract_envelope() -> None:
    """The generator's payload unpacks as a ``Telemetry`` envelope of the contract."""
    envelope = unpack(telemetry_payload("WMW21DH0X0T123451", 7, 123, 50.1, 4.3))
    assert isinstance(envelope, Telemetry)
    assert (envelope.vin, envelope.seq, envelope.sent_ns) == ("WMW21DH0X0T123451", 7, 123)


async def test_loadgen_messages_arrive_whole_at_a_gmqtt_subscriber(
        plain_services: LocalServices) -> None:
    """Every message it sends reaches a gmqtt subscriber through Mosquitto, well-formed.
    (A plaintext broker on purpose: this checks the generator's hand-made MQTT framing
    on the bare socket; the next test checks the same over TLS.)"""
    mqtt_url = plain_services.urls.mqtt_url
    got: list[tuple[str, bytes]] = []
    client = gmqtt.Client("loadgen-check")
    subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_message(_c: object, topic: str, payload: bytes, _q: int, _p: object) -> int:
        got.append((topic, payload))
        return 0

    def on_subscribe(*_a: object) -> None:
        if not subscribed.done():
            subscribed.set_result(None)

    client.on_message, client.on_subscribe = on_message, on_subscribe
    host, port = mqtt_address(mqtt_url)
    await client.connect(host, port, version=MQTTv50)
    client.subscribe(gmqtt.Subscription(TELEMETRY_FILTER, qos=0))
    await asyncio.wait_for(subscribed, 5)
    plan = LoadPlan(host=host, port=port, rate=2000, count=300, vehicles=30, connections=3,
                    max_s=10, token="CHECK")
    report = await asyncio.to_thread(generate, plan)
    for _ in range(500):
        if len(got) >= report.sent:
            break
        await asyncio.sleep(0.01)
    await client.disconnect()
    assert report.sent == 300
    assert len(got) == 300
    for topic, payload in got:
        envelope = unpack(payload)
        assert isinstance(envelope, Telemetry)
        assert parse_topic(topic).vin == envelope.vin


async def test_loadgen_speaks_tls_with_the_bench_certificate(
        secure_services: LocalServices) -> None:
    """On the secure broker the generator's connections present the benchmark's
    certificate and every message reaches a backend subscriber."""
    tls = secure_services.identity(BENCH)
    backend = await Peer(secure_services, "backend-bulk").connect()
    try:
        await backend.subscribe(TELEMETRY_FILTER)
        host, port = mqtt_address(secure_services.urls.mqtt_url)
        plan = LoadPlan(host=host, port=port, rate=2000, count=200, vehicles=20,
                        connections=2, max_s=10, token="TLSCK", tls=LoadTls.of(tls))
        report = await asyncio.to_thread(generate, plan)
        await until(lambda: len(backend.received) >= report.sent)
    finally:
        await backend.close()
    assert (report.sent, report.error) == (200, "")
    assert len(backend.received) == 200
