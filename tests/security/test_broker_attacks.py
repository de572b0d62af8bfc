"""Attacks on the secure broker, each expected to be refused by Mosquitto itself.

Every negative check is closed by a sentinel: after the attack, a legitimate message
travels the same path from the same sender, and the test waits for it; the broker keeps
each sender's order, so once the sentinel is in, the attack message would have been too.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.mqtt_wire import packet, utf8_field
from cli.local_services import LocalServices
from pki.authority import CertificateAuthority
from pki.identities import SCENARIO_RUNNER
from protocols.addresses import MqttTls, mqtt_address
from protocols.topics import (
    CLOCK_TOPIC,
    ECALL_FILTER,
    ecall_ack_topic,
    ecall_topic,
    shared,
    telemetry_topic,
    vehicle_commands_filter,
    workshop_map_topic,
)
from tests.security.peers import Peer, until

pytestmark = pytest.mark.broker

ATTACKER = "WMW21DH0X0T100001"
VICTIM = "WMW21DH0X0T100002"


@pytest.fixture
async def peers(secure_services: LocalServices) -> AsyncIterator[list[Peer]]:
    """Peers a test opens; all closed at its end."""
    opened: list[Peer] = []
    yield opened
    for peer in opened:
        await peer.close()


async def _open(opened: list[Peer], services: LocalServices, identity: str, *,
                client_id: str | None = None) -> Peer:
    peer = Peer(services, identity, client_id=client_id)
    opened.append(peer)
    return await peer.connect()


def _raw_connect(url: str, context: ssl.SSLContext) -> bytes:
    """Open TLS with ``context``, send an MQTT v5 CONNECT and return what comes back
    (b"" when the broker closes the connection)."""
    body = (utf8_field("MQTT") + bytes([5, 0x02]) + (30).to_bytes(2, "big") + b"\x00"
            + utf8_field(f"raw-{uuid.uuid4().hex[:6]}"))
    with socket.create_connection(mqtt_address(url), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(packet(0x10, body))
        return tls.recv(16)


def _anonymous_context(services: LocalServices, *, backend: bool) -> ssl.SSLContext:
    ca = services.authority(backend=backend).ca_file
    return ssl.create_default_context(cafile=str(ca))


@pytest.mark.parametrize("backend", [False, True], ids=["device-listener", "backend-listener"])
def test_broker_refuses_anonymous_client(secure_services: LocalServices, backend: bool) -> None:
    """A client without a certificate gets no MQTT session on either listener."""
    url = secure_services.urls.mqtt_url if backend else secure_services.urls.cars_mqtt_url
    with pytest.raises((ssl.SSLError, ConnectionError)):
        reply = _raw_connect(url, _anonymous_context(secure_services, backend=backend))
        if not reply:
            raise ConnectionError("closed by the broker")


def test_broker_refuses_plaintext_mqtt(secure_services: LocalServices) -> None:
    """A plaintext CONNECT on the TLS port is never answered with a CONNACK."""
    body = (utf8_field("MQTT") + bytes([5, 0x02]) + (30).to_bytes(2, "big") + b"\x00"
            + utf8_field("plain"))
    with socket.create_connection(mqtt_address(secure_services.urls.cars_mqtt_url),
                                  timeout=5) as raw:
        raw.sendall(packet(0x10, body))
        try:
            reply = raw.recv(16)
        except ConnectionError:
            reply = b""
    assert not reply.startswith(b"\x20")


def test_broker_refuses_certificate_of_another_ca(secure_services: LocalServices,
                                                  tmp_path: Path) -> None:
    """A car certificate for a real-looking VIN, signed by a CA the broker does not trust."""
    foreign = CertificateAuthority(tmp_path / "foreign").issue(VICTIM)
    trusting_our_broker = MqttTls(ca_file=secure_services.authority(backend=False).ca_file,
                                  cert_file=foreign.cert_file, key_file=foreign.key_file)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        reply = _raw_connect(secure_services.urls.cars_mqtt_url, trusting_our_broker.context())
        if not reply:
            raise ConnectionError("closed by the broker")


def test_broker_refuses_car_certificate_on_backend_listener(
        secure_services: LocalServices) -> None:
    """The backend listener trusts the backend CA only: a car cannot even open it."""
    car = secure_services.identity(ATTACKER)
    assert car is not None
    context = MqttTls(ca_file=secure_services.authority(backend=True).ca_file,
                      cert_file=car.cert_file, key_file=car.key_file).context()
    with pytest.raises((ssl.SSLError, ConnectionError)):
        reply = _raw_connect(secure_services.urls.mqtt_url, context)
        if not reply:
            raise ConnectionError("closed by the broker")


async def test_broker_car_subscribing_everything_receives_only_its_own(
        secure_services: LocalServices, peers: list[Peer]) -> None:
    """``#`` and another car's downlink deliver nothing but the attacker's own downlink."""
    attacker = await _open(peers, secure_services, ATTACKER)
    await attacker.subscribe("#")
    await attacker.subscribe(vehicle_commands_filter(VICTIM))
    await attacker.subscribe(vehicle_commands_filter(ATTACKER))
    victim = await _open(peers, secure_services, VICTIM)
    backend = await _open(peers, secure_services, "backend-services")
    await backend.subscribe(telemetry_topic(VICTIM))
    victim.publish(telemetry_topic(VICTIM), b"victim position")
    await until(lambda: b"victim position" in backend.payloads())
    backend.publish(ecall_ack_topic(VICTIM), b"ack for the victim")
    backend.publish(ecall_ack_topic(ATTACKER), b"sentinel")
    await until(lambda: b"sentinel" in attacker.payloads())
    # ``#`` and the own-downlink filter both match the sentinel: MQTT v5 may send it twice.
    assert set(attacker.payloads()) == {b"sentinel"}


async def test_broker_car_publishing_for_another_vin_never_reaches_backend(
        secure_services: LocalServices, peers: list[Peer]) -> None:
    """An uplink on another VIN's topic is dropped; the car's own goes through."""
    backend = await _open(peers, secure_services, "backend-emergency")
    await backend.subscribe(ECALL_FILTER)
    attacker = await _open(peers, secure_services, ATTACKER)
    attacker.publish(ecall_topic(VICTIM, "legal"), b"forged")
    attacker.publish(ecall_topic(ATTACKER, "legal"), b"sentinel")
    await until(lambda: b"sentinel" in backend.payloads())
    assert backend.payloads() == [b"sentinel"]


async def test_broker_car_cannot_acknowledge_on_a_downlink(
        secure_services: LocalServices, peers: list[Peer]) -> None:
    """A forged acknowledgement never reaches the victim car; the backend's does."""
    victim = await _open(peers, secure_services, VICTIM)
    await victim.subscribe(vehicle_commands_filter(VICTIM))
    attacker = await _open(peers, secure_services, ATTACKER)
    backend = await _open(peers, secure_services, "backend-emergency")
    await backend.subscribe(telemetry_topic(ATTACKER))
    attacker.publish(ecall_ack_topic(VICTIM), b"forged ack")
    attacker.publish(telemetry_topic(ATTACKER), b"sentinel")
    await until(lambda: b"sentinel" in backend.payloads())
    backend.publish(ecall_ack_topic(VICTIM), b"real ack")
    await until(lambda: b"real ack" in victim.payloads())
    assert victim.payloads() == [b"real ack"]


async def test_broker_car_using_backend_client_id_takes_nothing(
        secure_services: LocalServices, peers: list[Peer]) -> None:
    """On the device listener the client id is the VIN, whatever the car asks for: the
    worker keeps its session and receives every eCall."""
    worker = await _open(peers, secure_services, "backend-emergency",
                         client_id="backend-emergency-w1")
    await worker.subscribe(ECALL_FILTER)
    attacker = await _open(peers, secure_services, ATTACKER, client_id="backend-emergency-w1")
    calls = [f"call {n}".encode() for n in range(10)]
    for call in calls:
        attacker.publish(ecall_topic(ATTACKER, "legal"), call)
    await until(lambda: len(worker.payloads()) == len(calls))
    assert worker.payloads() == calls
    assert worker.client.is_connected and not worker.disconnected.is_set()


async def test_broker_car_joining_an_emergency_share_group_takes_no_ecall(
        secure_services: LocalServices, peers: list[Peer]) -> None:
    """A car in ``$share/emergency`` neither receives eCalls nor takes any from the lane.

    Mosquitto 2.0.11 checks its ACL at delivery, not at SUBSCRIBE, so a car can join any
    share group; the emergency lane therefore subscribes plainly and shares no group."""
    worker = await _open(peers, secure_services, "backend-emergency")
    await worker.subscribe(ECALL_FILTER)
    attacker = await _open(peers, secure_services, ATTACKER)
    await attacker.subscribe(shared("emergency", ECALL_FILTER))
    victim = await _open(peers, secure_services, VICTIM)
    calls = [f"call {n}".encode() for n in range(10)]
    for call in calls:
        victim.publish(ecall_topic(VICTIM, "legal"), call)
    victim.publish(telemetry_topic(VICTIM), b"sentinel")
    await until(lambda: len(worker.payloads()) == len(calls), timeout_s=3.0)
    assert attacker.payloads() == []


@pytest.mark.parametrize("topic", [ecall_topic(ATTACKER, "legal"), ecall_ack_topic(ATTACKER)],
                         ids=["uplink", "downlink"])
async def test_broker_keeps_no_retained_message(secure_services: LocalServices,
                                                peers: list[Peer], topic: str) -> None:
    """A retained publish costs the car its connection and is not kept for later
    subscribers (the broker has retain switched off)."""
    attacker = await _open(peers, secure_services, ATTACKER)
    attacker.publish(topic, b"retained", retain=True)
    await asyncio.wait_for(attacker.disconnected.wait(), 5)
    backend = await _open(peers, secure_services, "backend-desks")
    await backend.subscribe(topic)
    car = await _open(peers, secure_services, ATTACKER)
    await car.subscribe(ecall_ack_topic(ATTACKER))
    backend.publish(ecall_ack_topic(ATTACKER), b"sentinel")
    await until(lambda: b"sentinel" in car.payloads())
    assert backend.payloads() == []
    assert car.payloads() == [b"sentinel"]


async def test_broker_drops_oversize_message_and_its_sender(
        secure_services: LocalServices, peers: list[Peer]) -> None:
    """A 20 MB eCall ends the car's connection and reaches no one; a 200 KB workshop map
    downlink, the largest legitimate message, still goes through."""
    backend = await _open(peers, secure_services, "backend-emergency")
    await backend.subscribe(ECALL_FILTER)
    attacker = await _open(peers, secure_services, ATTACKER)
    await attacker.subscribe(vehicle_commands_filter(ATTACKER))
    attacker.publish(ecall_topic(ATTACKER, "legal"), b"x" * 20_000_000)
    await asyncio.wait_for(attacker.disconnected.wait(), 10)
    car = await _open(peers, secure_services, VICTIM)
    await car.subscribe(vehicle_commands_filter(VICTIM))
    workshop_map = b"m" * 200_000
    backend.publish(workshop_map_topic(VICTIM), workshop_map)
    car.publish(ecall_topic(VICTIM, "legal"), b"sentinel")
    await until(lambda: b"sentinel" in backend.payloads() and bool(car.payloads()))
    assert backend.payloads() == [b"sentinel"]
    assert car.payloads() == [workshop_map]


async def test_broker_clock_is_written_only_by_runner_and_backend(
        secure_services: LocalServices, peers: list[Peer]) -> None:
    """A car's clock announcement is dropped; the scenario runner's arrives."""
    listener = await _open(peers, secure_services, "backend-api")
    await listener.subscribe(CLOCK_TOPIC)
    await listener.subscribe(telemetry_topic(ATTACKER))
    attacker = await _open(peers, secure_services, ATTACKER)
    runner = await _open(peers, secure_services, SCENARIO_RUNNER)
    attacker.publish(CLOCK_TOPIC, b"400 days ahead")
    attacker.publish(telemetry_topic(ATTACKER), b"attack done")
    await until(lambda: b"attack done" in listener.payloads())
    runner.publish(CLOCK_TOPIC, b"runner clock")
    await until(lambda: b"runner clock" in listener.payloads(CLOCK_TOPIC))
    assert listener.payloads(CLOCK_TOPIC) == [b"runner clock"]


async def test_broker_log_names_no_vin(secure_services: LocalServices,
                                       peers: list[Peer]) -> None:
    """Cars connect, publish, are refused and disconnected: the broker's log holds no VIN."""
    backend = await _open(peers, secure_services, "backend-bulk")
    await backend.subscribe(telemetry_topic(VICTIM))
    attacker = await _open(peers, secure_services, ATTACKER)
    attacker.publish(ecall_topic(VICTIM, "legal"), b"forged")
    await attacker.close()
    victim = await _open(peers, secure_services, VICTIM)
    victim.publish(telemetry_topic(VICTIM), b"sentinel")
    await until(lambda: b"sentinel" in backend.payloads())
    log = (secure_services.run_dir / "mosquitto.log").read_text(encoding="utf-8")
    assert "Opening ipv4 listen socket" in log
    assert ATTACKER not in log
    assert VICTIM not in log
