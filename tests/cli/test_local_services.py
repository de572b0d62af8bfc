"""Local Mosquitto and Redis: start, readiness, environment URLs, install hints, restarts.

The tests of the running services speak MQTT with hand-made packets (``RawMqtt``) on a
plain socket, to check the broker below any client library, so they use the plaintext
mode of ``LocalServices`` (``plain_services``) on purpose; the secure mode's tests start
``LocalServices(secure=True)`` themselves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from bench.mqtt_wire import packet, remaining_length, utf8_field
from cli.local_services import (
    BrokerTls,
    LocalServices,
    ServiceError,
    ServiceUrlError,
    ensure_installed,
    find_binary,
    mosquitto_config,
    parse_mqtt_url,
    parse_redis_url,
)
from pki.authority import ServerFiles

# --- a minimal MQTT v5 client over a raw socket ---------------------------------------------


class RawMqtt:
    """One MQTT v5 connection, one packet at a time, with a socket timeout as deadline."""

    def __init__(self, url: str) -> None:
        self.sock = socket.create_connection(parse_mqtt_url(url), timeout=5)

    def close(self) -> None:
        self.sock.close()

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            data += chunk
        return data

    def read(self) -> tuple[int, bytes]:
        first = self._exactly(1)[0]
        length, shift = 0, 0
        while True:
            digit = self._exactly(1)[0]
            length |= (digit & 0x7F) << shift
            shift += 7
            if not digit & 0x80:
                break
        return first, self._exactly(length)

    def connect(self, client_id: str, *, clean_start: bool, session_expiry_s: int) -> bytes:
        """Send CONNECT; return the CONNACK body (acknowledge flags, reason code, ...)."""
        props = b"\x11" + session_expiry_s.to_bytes(4, "big")
        body = (utf8_field("MQTT") + bytes([5, 0x02 if clean_start else 0x00])
                + (30).to_bytes(2, "big") + remaining_length(len(props)) + props
                + utf8_field(client_id))
        self.sock.sendall(packet(0x10, body))
        kind, ack = self.read()
        assert kind == 0x20
        return ack

    def subscribe_qos1(self, topic: str) -> int:
        body = (1).to_bytes(2, "big") + b"\x00" + utf8_field(topic) + b"\x01"
        self.sock.sendall(packet(0x82, body))
        kind, ack = self.read()
        assert kind == 0x90
        return ack[-1]

    def publish_qos1(self, topic: str, payload: bytes, *, packet_id: int) -> None:
        body = utf8_field(topic) + packet_id.to_bytes(2, "big") + b"\x00" + payload
        self.sock.sendall(packet(0x32, body))
        kind, ack = self.read()
        assert kind == 0x40
        assert ack[:2] == packet_id.to_bytes(2, "big")

    def receive_publish(self) -> tuple[str, bytes]:
        kind, body = self.read()
        assert kind & 0xF0 == 0x30
        topic_len = int.from_bytes(body[:2], "big")
        topic = body[2:2 + topic_len].decode()
        rest = body[2 + topic_len:]
        if kind & 0x06:
            self.sock.sendall(packet(0x40, rest[:2]))
            rest = rest[2:]
        props_len = rest[0]  # short property blocks only
        return topic, rest[1 + props_len:]

    def disconnect(self) -> None:
        self.sock.sendall(b"\xe0\x00")
        self.sock.close()


def _resp(*words: str) -> bytes:
    return b"".join([f"*{len(words)}\r\n".encode(),
                     *(f"${len(w)}\r\n{w}\r\n".encode() for w in words)])


def _redis_ping(url: str) -> bytes:
    """The raw reply to PING, sent as the URL's user (AUTH first) when it names one."""
    parts = urlsplit(url)
    with socket.create_connection(parse_redis_url(url), timeout=5) as sock:
        if parts.username:
            sock.sendall(_resp("AUTH", parts.username, parts.password or ""))
            assert sock.recv(64) == b"+OK\r\n"
        sock.sendall(_resp("PING"))
        return sock.recv(64)


def _fake_binary(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-server"
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(0o755)
    return str(path)


INSTALL_HINT_LINUX = (
    "mosquitto not found (looked on PATH and in /usr/sbin); install with: "
    "sudo apt-get install mosquitto redis-server (or set TELEMATICS_MQTT_URL and "
    "TELEMATICS_REDIS_URL to use services already running)"
)

# --- the running services ----------------------------------------------------------------------


def test_local_services_answer_ping_and_mqtt_connect(plain_services: LocalServices) -> None:
    """A plaintext pair's Redis answers PING and its broker accepts an MQTT v5 CONNECT."""
    assert _redis_ping(plain_services.urls.redis_url) == b"+PONG\r\n"
    client = RawMqtt(plain_services.urls.mqtt_url)
    try:
        ack = client.connect("test-connect", clean_start=True, session_expiry_s=0)
        assert ack[1] == 0x00
    finally:
        client.disconnect()


def test_local_services_broker_config_sets_nodelay_and_persistence(
        plain_services: LocalServices) -> None:
    """The generated mosquitto.conf has the settings the latency and restart rules need."""
    _, port = parse_mqtt_url(plain_services.urls.mqtt_url)
    lines = (plain_services.run_dir / "mosquitto.conf").read_text().splitlines()
    for expected in (f"listener {port} 127.0.0.1", "set_tcp_nodelay true", "persistence true",
                     "autosave_interval 1", "allow_anonymous true"):
        assert expected in lines


def test_mosquitto_config_secure_has_no_plaintext_listener(tmp_path: Path) -> None:
    """With TLS: two certificate-only listeners, the ACL, the limits, retain off, no
    connection lines in the log, and nothing anonymous."""
    server = ServerFiles(ca_file=tmp_path / "ca.crt", cert_file=tmp_path / "s.crt",
                         key_file=tmp_path / "s.key")
    tls = BrokerTls(backend=server, devices=server, device_port=2002,
                    acl_file=tmp_path / "acl")
    lines = mosquitto_config(port=2001, run_dir=tmp_path, as_root=False, tls=tls).splitlines()
    listeners = [line for line in lines if line.startswith("listener ")]
    assert listeners == ["listener 2001 127.0.0.1", "listener 2002 127.0.0.1"]
    assert lines.count("require_certificate true") == 2
    assert lines.count("use_identity_as_username true") == 2
    # only the device listener (the last one) replaces client ids by the certificate's CN
    assert lines.index("use_username_as_clientid true") > lines.index(listeners[1])
    for expected in ("allow_anonymous false", f"acl_file {tmp_path / 'acl'}",
                     "retain_available false", "connection_messages false",
                     "max_packet_size 524288", "persistent_client_expiration 1d"):
        assert expected in lines
    assert "allow_anonymous true" not in lines
    assert not any(line in ("log_type all", "log_type subscribe") for line in lines)


def test_local_services_secure_urls_and_identities(tmp_path: Path) -> None:
    """A secure run gives mqtts URLs for backend and cars and issues each identity from
    its own CA; a plaintext run issues none."""
    services = LocalServices(run_dir=tmp_path, environ={}, secure=True)
    with services:
        urls = services.urls
        assert urls.mqtt_url.startswith("mqtts://127.0.0.1:")
        assert urls.cars_mqtt_url.startswith("mqtts://127.0.0.1:")
        assert urls.cars_mqtt_url != urls.mqtt_url
        backend, car = services.identity("backend-api"), services.identity("WMW21DH0X0T123451")
        assert backend is not None and car is not None
        assert backend.ca_file == tmp_path / "pki" / "backend" / "ca.crt"
        assert car.ca_file == tmp_path / "pki" / "devices" / "ca.crt"


def test_local_services_secure_restart_keeps_both_listeners(tmp_path: Path) -> None:
    """After restart_mqtt() both TLS listeners are back on their ports and take a car."""
    with LocalServices(run_dir=tmp_path, environ={}, secure=True) as services:
        before = services.urls
        services.restart_mqtt()
        assert services.urls == before
        car = services.identity("WMW21DH0X0T123451")
        assert car is not None
        context = car.context()
        with socket.create_connection(parse_mqtt_url(before.cars_mqtt_url), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(packet(0x10, utf8_field("MQTT") + bytes([5, 0x02]) + (30).to_bytes(2, "big")
                               + b"\x00" + utf8_field("any")))
            ack = tls.recv(16)
            assert (ack[0], ack[3]) == (0x20, 0)  # CONNACK, success


def test_local_services_plaintext_issues_no_identity(plain_services: LocalServices) -> None:
    """Against a plaintext broker there is no certificate to present."""
    assert plain_services.identity("backend-api") is None
    assert plain_services.urls.cars_mqtt_url == plain_services.urls.mqtt_url


def test_local_services_restart_keeps_port(plain_services: LocalServices) -> None:
    """Both restarts come back on the same URLs and answer again."""
    before = plain_services.urls
    plain_services.restart_mqtt()
    plain_services.restart_redis()
    assert plain_services.urls == before
    assert _redis_ping(before.redis_url) == b"+PONG\r\n"
    client = RawMqtt(before.mqtt_url)
    try:
        assert client.connect("after-restart", clean_start=True, session_expiry_s=0)[1] == 0
    finally:
        client.disconnect()


def test_local_services_redis_stream_survives_restart(plain_services: LocalServices) -> None:
    """Entries added to a stream before restart_redis() are there after it."""
    url = plain_services.urls.redis_url
    with redis.Redis.from_url(url) as client:
        ids = [client.xadd("incidents", {"n": str(i)}) for i in range(3)]
    plain_services.restart_redis()
    with redis.Redis.from_url(url) as client:
        entries = client.xrange("incidents")
    assert [entry_id for entry_id, _ in entries] == ids
    assert [fields[b"n"] for _, fields in entries] == [b"0", b"1", b"2"]


def test_local_services_queued_qos1_message_survives_broker_restart(
        plain_services: LocalServices) -> None:
    """A QoS 1 message queued for an offline session is delivered after restart_mqtt()."""
    url = plain_services.urls.mqtt_url
    subscriber = RawMqtt(url)
    # Mosquitto 2.0 writes a session to disk only if its CONNECT had Clean Start = 0,
    # whatever the Session Expiry Interval; with Clean Start = 1 it survives only in memory.
    assert subscriber.connect("desk", clean_start=False, session_expiry_s=300)[1] == 0
    assert subscriber.subscribe_qos1("tcu/WMW21DH0X0T123451/ecall/legal") == 1
    subscriber.disconnect()
    publisher = RawMqtt(url)
    publisher.connect("car", clean_start=True, session_expiry_s=0)
    publisher.publish_qos1("tcu/WMW21DH0X0T123451/ecall/legal", b"msd-1", packet_id=7)
    publisher.disconnect()

    plain_services.restart_mqtt()

    subscriber = RawMqtt(url)
    try:
        ack = subscriber.connect("desk", clean_start=False, session_expiry_s=300)
        assert ack[:2] == b"\x01\x00"  # session present, success
        assert subscriber.receive_publish() == ("tcu/WMW21DH0X0T123451/ecall/legal", b"msd-1")
    finally:
        subscriber.disconnect()


# --- environment URLs --------------------------------------------------------------------------


def test_local_services_env_urls_start_no_process(tmp_path: Path) -> None:
    """With both URLs in the environment, nothing is started and nothing is written."""
    environ = {"TELEMATICS_MQTT_URL": "mqtt://broker.test:1884",
               "TELEMATICS_REDIS_URL": "redis://cache.test:6380/2"}
    run_dir = tmp_path / "run"
    with LocalServices(run_dir=run_dir, environ=environ, which=lambda _: None) as services:
        assert services.urls.mqtt_url == "mqtt://broker.test:1884"
        assert services.urls.redis_url == "redis://cache.test:6380/2"
        # No PSAP URL given: the weak mode, the PSAP domain in that same Redis.
        assert services.urls.psap_redis_url == services.urls.redis_url
        assert not services.urls.psap_apart
        with pytest.raises(ServiceError, match="TELEMATICS_REDIS_URL is set"):
            services.restart_redis()
    assert not run_dir.exists()


@pytest.mark.broker
def test_local_services_env_mqtt_url_starts_only_redis(tmp_path: Path) -> None:
    """A broker URL from the environment is used as is; Redis is still started locally."""
    environ = {"TELEMATICS_MQTT_URL": "mqtt://broker.test:1884"}
    with LocalServices(run_dir=tmp_path, environ=environ) as services:
        assert services.urls.mqtt_url == "mqtt://broker.test:1884"
        assert services.urls.redis_url.startswith("redis://oem:")
        assert services.urls.psap_apart
        assert _redis_ping(services.urls.redis_url) == b"+PONG\r\n"
        assert not (tmp_path / "mosquitto.conf").exists()


def test_local_services_bad_env_url_names_variable_and_rule(tmp_path: Path) -> None:
    """A malformed URL is refused with the variable's name and the rule it breaks."""
    environ = {"TELEMATICS_MQTT_URL": "mqtt://broker.test",
               "TELEMATICS_REDIS_URL": "http://cache.test"}
    with pytest.raises(ServiceUrlError) as info, LocalServices(run_dir=tmp_path,
                                                              environ=environ):
        pass
    assert str(info.value) == (
        "TELEMATICS_REDIS_URL='http://cache.test': expected "
        "redis://[USER:PASSWORD@]HOST[:PORT][/DB] with a port in 1..65535")
    assert info.value.variable == "TELEMATICS_REDIS_URL"


@pytest.mark.parametrize(("url", "expected"), [
    ("mqtt://127.0.0.1:1884", ("127.0.0.1", 1884)),
    ("mqtt://mosquitto", ("mosquitto", 1883)),
    ("mqtt://mosquitto:1883/", ("mosquitto", 1883)),
    ("mqtts://mosquitto", ("mosquitto", 8883)),
])
def test_parse_mqtt_url_accepts_host_and_port(url: str, expected: tuple[str, int]) -> None:
    """mqtt://HOST[:PORT] parses, with 1883 as the default port."""
    assert parse_mqtt_url(url) == expected


@pytest.mark.parametrize("url", ["tcp://h:1883", "mqtt://:1883", "mqtt://h:0", "mqtt://h:99999",
                                 "mqtt://h:x", "mqtt://h/topic", "h:1883", ""])
def test_parse_mqtt_url_rejects_other_forms(url: str) -> None:
    """Anything but mqtt://HOST[:PORT] is a ServiceUrlError naming the variable."""
    with pytest.raises(ServiceUrlError, match=r"^TELEMATICS_MQTT_URL=.*expected mqtt\[s\]://"):
        parse_mqtt_url(url)


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://127.0.0.1:6380", ("127.0.0.1", 6380)),
    ("redis://redis", ("redis", 6379)),
    ("redis://:secret@redis:6379/1", ("redis", 6379)),
])
def test_parse_redis_url_accepts_host_port_and_db(url: str, expected: tuple[str, int]) -> None:
    """redis://[USER:PASSWORD@]HOST[:PORT][/DB] parses, with 6379 as the default port."""
    assert parse_redis_url(url) == expected


@pytest.mark.parametrize("url", ["rediss://h", "redis://h/x", "redis://h:0", "redis://"])
def test_parse_redis_url_rejects_other_forms(url: str) -> None:
    """Other schemes, a non-numeric database or a missing host are refused."""
    with pytest.raises(ServiceUrlError, match=r"^TELEMATICS_REDIS_URL="):
        parse_redis_url(url)


# --- binaries ----------------------------------------------------------------------------------


def test_find_binary_looks_in_path_then_extra_dirs(tmp_path: Path) -> None:
    """A binary outside PATH is found in the sbin-like directories."""
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    (sbin / "mosquitto").write_text("#!/bin/sh\n")
    (sbin / "mosquitto").chmod(0o755)
    assert find_binary("mosquitto", path=str(sbin), extra_dirs=()) == str(sbin / "mosquitto")
    assert find_binary("mosquitto", path="", extra_dirs=(str(sbin),)) == str(sbin / "mosquitto")
    assert find_binary("mosquitto", path="", extra_dirs=()) is None


def test_ensure_installed_missing_binary_says_what_to_install() -> None:
    """Without apt, the error names the missing binary and the exact apt-get command."""
    with pytest.raises(ServiceError) as info:
        ensure_installed(allow_apt=False, which=lambda name: None if name == "mosquitto"
                         else "/usr/bin/redis-server", platform="linux")
    assert str(info.value) == INSTALL_HINT_LINUX


def test_ensure_installed_missing_binaries_on_macos_suggest_brew() -> None:
    """On macOS the hint is the Homebrew command."""
    with pytest.raises(ServiceError) as info:
        ensure_installed(allow_apt=True, which=lambda _: None, is_root=True, platform="darwin")
    assert str(info.value) == (
        "mosquitto and redis-server not found (looked on PATH and in /usr/sbin); install with: "
        "brew install mosquitto redis (or set TELEMATICS_MQTT_URL and TELEMATICS_REDIS_URL "
        "to use services already running)")


def test_ensure_installed_runs_apt_get_as_root() -> None:
    """As root with allow_apt, apt-get update and install run, then the binaries are found."""
    installed: set[str] = {"apt-get"}
    commands: list[list[str]] = []

    def run(argv: Sequence[str]) -> int:
        commands.append(list(argv))
        if argv[1] == "install":
            installed.update({"mosquitto", "redis-server"})
        return 0

    ensure_installed(allow_apt=True, which=lambda n: f"/usr/sbin/{n}" if n in installed else None,
                     is_root=True, platform="linux", run=run)
    assert commands == [["apt-get", "update"],
                        ["apt-get", "install", "-y", "mosquitto", "redis-server"]]


def test_ensure_installed_reports_failing_apt_get() -> None:
    """A failing apt-get is reported with its command and exit code, plus the hint."""
    with pytest.raises(ServiceError) as info:
        ensure_installed(allow_apt=True, which=lambda n: "/usr/bin/apt-get" if n == "apt-get"
                         else None, is_root=True, platform="linux",
                         run=lambda argv: 100 if argv[1] == "install" else 0)
    assert str(info.value).startswith(
        "`apt-get install -y mosquitto redis-server` exited with 100; mosquitto and "
        "redis-server not found")


def test_ensure_installed_without_root_never_runs_apt() -> None:
    """Not root: no apt-get, just the install hint."""
    commands: list[Sequence[str]] = []

    def run(argv: Sequence[str]) -> int:
        commands.append(argv)
        return 0

    with pytest.raises(ServiceError, match="sudo apt-get install mosquitto redis-server"):
        ensure_installed(allow_apt=True, which=lambda n: "/usr/bin/apt-get" if n == "apt-get"
                         else None, is_root=False, platform="linux", run=run)
    assert commands == []


def test_ensure_installed_needs_no_binary_for_env_urls() -> None:
    """A service whose URL is in the environment needs no local binary."""
    environ = {"TELEMATICS_MQTT_URL": "mqtt://broker.test", "TELEMATICS_REDIS_URL": "redis://r"}
    ensure_installed(allow_apt=False, environ=environ, which=lambda _: None)
    with pytest.raises(ServiceError, match=r"^redis-server not found"):
        ensure_installed(allow_apt=False, environ={"TELEMATICS_MQTT_URL": "mqtt://broker.test"},
                         which=lambda _: None, platform="linux")


# --- lifecycle ---------------------------------------------------------------------------------


def test_local_services_missing_binary_gives_install_message(tmp_path: Path) -> None:
    """Starting without the binary fails with the same install message."""
    services = LocalServices(run_dir=tmp_path, environ={}, which=lambda _: None)
    with pytest.raises(ServiceError) as info, services:
        pass
    assert str(info.value).startswith("mosquitto not found (looked on PATH and in /usr/sbin); "
                                      "install with: ")


def test_local_services_context_is_not_reentrant(tmp_path: Path) -> None:
    """Entering a running LocalServices again is an error; after exit it can be reused."""
    environ = {"TELEMATICS_MQTT_URL": "mqtt://b", "TELEMATICS_REDIS_URL": "redis://r"}
    services = LocalServices(run_dir=tmp_path, environ=environ)
    with services, pytest.raises(ServiceError, match="not reentrant"), services:
        pass
    with services:
        assert services.urls.mqtt_url == "mqtt://b"
    with pytest.raises(ServiceError, match="outside its `with` block"):
        _ = services.urls


def test_local_services_start_failure_shows_log_tail(tmp_path: Path) -> None:
    """A server that exits while starting is reported with the end of its log."""
    binary = _fake_binary(tmp_path, 'echo "Error: unknown option in config" >&2\nexit 3\n')
    services = LocalServices(run_dir=tmp_path / "run", environ={}, which=lambda _: binary)
    with pytest.raises(ServiceError) as info, services:
        pass
    message = str(info.value)
    assert message.startswith("mosquitto exited with 3 while starting on port ")
    assert message.endswith("mosquitto.log ends with:\nError: unknown option in config")
    assert not (tmp_path / "run" / "mosquitto.pid").exists()


def test_local_services_retries_when_port_is_taken(tmp_path: Path) -> None:
    """A port lost to another process is retried on new ports, three times in all."""
    attempts = tmp_path / "attempts"
    binary = _fake_binary(tmp_path, f'echo x >> "{attempts}"\n'
                                    'echo "Error: Address already in use" >&2\nexit 1\n')
    services = LocalServices(run_dir=tmp_path / "run", environ={}, which=lambda _: binary)
    with pytest.raises(ServiceError, match="Address already in use"), services:
        pass
    assert attempts.read_text().count("x") == 3


def test_local_services_not_ready_in_time_is_stopped_and_reported(tmp_path: Path) -> None:
    """A server that never listens is stopped after the timeout, with its log in the error."""
    binary = _fake_binary(tmp_path, 'echo "waiting for nothing"\nexec sleep 60\n')
    services = LocalServices(run_dir=tmp_path / "run", environ={}, which=lambda _: binary,
                             ready_timeout_s=0.3)
    with pytest.raises(ServiceError) as info, services:
        pass
    assert "mosquitto not ready on 127.0.0.1:" in str(info.value)
    assert "after 0.3 s" in str(info.value)
    assert str(info.value).endswith("ends with:\nwaiting for nothing")


def test_local_services_refuses_run_dir_left_in_use(tmp_path: Path) -> None:
    """A server still running from an earlier run in the same directory is not started twice."""
    leftover_binary = tmp_path / "mosquitto"
    leftover_binary.write_text("#!/bin/sh\necho started\nsleep 60\n", encoding="utf-8")
    leftover_binary.chmod(0o755)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    leftover = subprocess.Popen([str(leftover_binary)], stdout=subprocess.PIPE,
                                start_new_session=True)
    try:
        assert leftover.stdout is not None
        assert leftover.stdout.readline() == b"started\n"  # the script runs under its name
        (run_dir / "mosquitto.pid").write_text(f"{leftover.pid}\n", encoding="ascii")
        services = LocalServices(run_dir=run_dir, environ={}, which=lambda _: "/bin/false")
        with pytest.raises(ServiceError) as info, services:
            pass
    finally:
        os.killpg(leftover.pid, signal.SIGKILL)  # the script and its sleep
        leftover.communicate()
    assert str(info.value) == (
        f"{run_dir} is in use by mosquitto (pid {leftover.pid}), left running by an earlier "
        f"run; stop it with `kill {leftover.pid}` or use another run directory")
