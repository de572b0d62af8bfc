"""docker compose's files: the broker takes TLS clients with certificates only, under the
ACL, and the file publishes nothing it should not. There is no Docker engine here, so the
compose broker's configuration is run with the local Mosquitto on loopback instead."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gmqtt
import pytest
import yaml
from gmqtt.mqtt.constants import MQTTv50

from cli.local_services import find_binary, free_port
from cli.pki_init import initialise
from pki.authority import CertificateAuthority
from protocols.topics import ECALL_FILTER, ecall_topic
from tests.security.peers import until

ROOT = Path(__file__).resolve().parents[2]
VIN = "WMW21DH0X0T100003"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_builds_one_image_that_every_service_uses() -> None:
    """One service builds the image; the backend, the simulator and the broker run it."""
    services = _compose()["services"]
    assert [name for name, s in services.items() if "build" in s] == ["mosquitto"]
    image = services["mosquitto"]["image"]
    assert {services[name]["image"] for name in ("backend", "sim", "redis", "redis-psap")} == {
        image}


def test_compose_keeps_the_psap_domain_in_a_redis_of_its_own() -> None:
    """Two Redis instances, neither published, each with its own data volume; no Redis URL
    (so no password) is written in the file: the backend's entry reads them from the
    shared users volume."""
    services = _compose()["services"]
    redis, psap = services["redis"], services["redis-psap"]
    assert redis["entrypoint"][-1] == "oem" and psap["entrypoint"][-1] == "psap"
    assert "ports" not in redis and "ports" not in psap
    assert redis["volumes"][1].split(":")[0] != psap["volumes"][1].split(":")[0]
    text = (ROOT / "docker-compose.yml").read_text()
    assert "redis://" not in text
    assert services["backend"]["entrypoint"] == ["/app/deploy/backend-entry.sh"]


def test_compose_publishes_the_api_on_loopback_and_only_tls_mqtt() -> None:
    """The API is bound to 127.0.0.1 on the host; the broker publishes its TLS device
    listener only; every client's broker URL is mqtts."""
    services = _compose()["services"]
    assert services["backend"]["ports"] == ["127.0.0.1:8080:8080"]
    assert services["mosquitto"]["ports"] == ["8883:8883"]
    assert "ports" not in services["redis"] and "ports" not in services["sim"]
    urls = [s.get("environment", {}).get("TELEMATICS_MQTT_URL") for s in services.values()]
    assert sorted(u for u in urls if u) == ["mqtts://mosquitto:8883", "mqtts://mosquitto:8884"]
    assert "--pki-dir" in services["sim"]["command"]


def test_compose_mosquitto_conf_has_no_anonymous_or_plaintext_listener() -> None:
    """Both listeners want a client certificate; anonymous clients are refused."""
    lines = (ROOT / "deploy" / "mosquitto.conf").read_text().splitlines()
    assert "allow_anonymous true" not in lines and "allow_anonymous false" in lines
    listeners = [line for line in lines if line.startswith("listener ")]
    assert len(listeners) == lines.count("require_certificate true") == 2
    assert lines.count("cafile /app/.run/pki/devices/ca.crt") == 1
    assert "acl_file /app/.run/pki/mosquitto.acl" in lines
    assert "retain_available false" in lines and "connection_messages false" in lines


@pytest.fixture
def compose_broker(tmp_path: Path) -> Iterator[tuple[Path, int, int]]:
    """Mosquitto with deploy/mosquitto.conf, its paths and ports moved to a temporary
    directory and free loopback ports, after `telematics pki init` made its files."""
    binary = find_binary("mosquitto")
    if binary is None:
        pytest.fail("mosquitto not found", pytrace=False)
    pki_dir, data = tmp_path / "pki", tmp_path / "data"
    data.mkdir()
    initialise(pki_dir, hosts=("mosquitto", "localhost", "127.0.0.1"))
    device_port, backend_port = free_port(), free_port()
    text = ((ROOT / "deploy" / "mosquitto.conf").read_text()
            .replace("/app/.run/pki", str(pki_dir)).replace("/app/.run/mosquitto", str(data))
            .replace("listener 8883 0.0.0.0", f"listener {device_port} 127.0.0.1")
            .replace("listener 8884 0.0.0.0", f"listener {backend_port} 127.0.0.1")
            .replace("log_dest stdout", f"log_dest file {tmp_path / 'mosquitto.log'}"))
    if os.geteuid() == 0:
        text += "user root\n"
    config = tmp_path / "mosquitto.conf"
    config.write_text(text)
    proc = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        asyncio.run(until(lambda: _accepts(device_port) and _accepts(backend_port)))
        yield pki_dir, device_port, backend_port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


@pytest.mark.broker
async def test_compose_broker_carries_a_car_ecall_to_the_backend_and_refuses_no_certificate(
        compose_broker: tuple[Path, int, int]) -> None:
    """A car with its VIN's certificate reaches a backend role on the backend listener; a
    TLS client without a certificate is refused on both listeners."""
    pki_dir, device_port, backend_port = compose_broker
    car_tls = CertificateAuthority(pki_dir / "devices").issue(VIN).context()
    backend_tls = CertificateAuthority(pki_dir / "backend").issue("backend-emergency").context()
    got: list[str] = []
    subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    backend = gmqtt.Client("backend-emergency-compose", clean_session=True)

    def on_message(_c: object, topic: str, _p: bytes, _q: int, _props: object) -> int:
        got.append(topic)
        return 0

    def on_subscribe(*_a: object) -> None:
        if not subscribed.done():
            subscribed.set_result(None)

    backend.on_message, backend.on_subscribe = on_message, on_subscribe
    car = gmqtt.Client("car", clean_session=True)
    topic = ecall_topic(VIN, "legal")
    try:
        await backend.connect("127.0.0.1", backend_port, ssl=backend_tls, version=MQTTv50)
        backend.subscribe(gmqtt.Subscription(ECALL_FILTER, qos=1))
        await asyncio.wait_for(subscribed, 5)
        await car.connect("127.0.0.1", device_port, ssl=car_tls, version=MQTTv50)
        car.publish(topic, b"\x80", qos=1)
        await until(lambda: topic in got)
    finally:
        for client in (car, backend):
            with contextlib.suppress(ssl.SSLError):
                await client.disconnect()
    assert _refused_without_certificate(device_port, pki_dir / "devices" / "ca.crt")
    assert _refused_without_certificate(backend_port, pki_dir / "backend" / "ca.crt")


def _refused_without_certificate(port: int, ca_file: Path) -> bool:
    """A TLS client that trusts the listener's CA but has no certificate of its own."""
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with socket.create_connection(("127.0.0.1", port), 5) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"\x10\x00")
            return tls.recv(16) == b""  # the broker closes instead of answering
    except (ssl.SSLError, ConnectionError):
        return True
