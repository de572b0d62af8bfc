"""Background telemetry for the benchmarks: many simulated vehicles, in a process of its own.

Real vehicles publish from other machines; on the shared 2-core box the generator
competes with the broker and the backend it is loading, so it must cost as little CPU
per message as possible. It therefore speaks just enough MQTT 3.1.1 itself (CONNECT,
then QoS 0 PUBLISH, then DISCONNECT) over blocking sockets with TCP_NODELAY, instead of
carrying a full client's per-message bookkeeping. Payloads are real ``Telemetry``
envelopes, so the backend's bulk lane does its normal work on each one.

It sends a fixed number of messages, paced in ticks of a few milliseconds, and stops
by itself at a time limit even if it falls behind. Run as
``python -m bench.loadgen PLAN_JSON``; it prints one JSON line when connected and one
when done (see ``LoadProcess``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import msgpack

from bench.fleet import COUNTRY_SPOTS, spot_near, vin_of
from bench.mqtt_wire import packet, utf8_field
from protocols.addresses import MqttTls
from protocols.envelope import ENVELOPE_VERSION
from protocols.topics import telemetry_topic

_CATCH_UP_S: Final = 0.02  # at most this much backlog is sent in one tick
_CONNECT_TIMEOUT_S: Final = 5.0
_SEND_TIMEOUT_S: Final = 2.0


@dataclass(frozen=True, slots=True)
class LoadTls:
    """The benchmark's certificate as plain paths, so a plan crosses to the child as JSON."""

    ca_file: str
    cert_file: str
    key_file: str

    @classmethod
    def of(cls, tls: MqttTls | None) -> LoadTls | None:
        if tls is None:
            return None
        return cls(str(tls.ca_file), str(tls.cert_file), str(tls.key_file))

    def context(self) -> ssl.SSLContext:
        return MqttTls(ca_file=Path(self.ca_file), cert_file=Path(self.cert_file),
                       key_file=Path(self.key_file)).context()


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadPlan:
    """What to send: ``count`` messages at ``rate``/s from ``vehicles`` over ``connections``."""

    host: str
    port: int
    rate: float
    count: int
    vehicles: int
    connections: int
    max_s: float
    token: str
    tick_s: float = 0.002
    tls: LoadTls | None = None  # TLS with the benchmark's certificate; plaintext without

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.count < 0 or self.max_s <= 0 or self.tick_s <= 0:
            raise ValueError("rate, max_s and tick_s must be positive, count >= 0")
        if not 1 <= self.connections <= self.vehicles:
            raise ValueError("need 1 <= connections <= vehicles")


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What the generator did: messages handed to the kernel, its window and CPU."""

    sent: int
    start_ns: int
    end_ns: int
    cpu_s: float
    error: str = ""

    @property
    def seconds(self) -> float:
        return max(0.0, (self.end_ns - self.start_ns) / 1e9)


def connect_packet(client_id: str, *, keepalive_s: int = 60) -> bytes:
    """CONNECT, MQTT 3.1.1, clean session, no will, no credentials."""
    body = (utf8_field("MQTT") + bytes((4, 0x02)) + keepalive_s.to_bytes(2, "big")
            + utf8_field(client_id))
    return packet(0x10, body)


def publish_packet(topic_field: bytes, payload: bytes) -> bytes:
    """PUBLISH at QoS 0; ``topic_field`` is the topic with its 2-byte length prefix."""
    return packet(0x30, topic_field + payload)


def telemetry_payload(vin: str, seq: int, sent_ns: int, lat: float, lon: float) -> bytes:
    """A ``Telemetry`` envelope as ``protocols.envelope.pack`` writes it, without asdict."""
    body: dict[str, Any] = {
        "vin": vin, "seq": seq, "sent_ns": sent_ns, "lat": lat, "lon": lon,
        "speed_kmh": 87.5, "odometer_km": 45678.9 + seq * 0.01,
        "extra": {"fuel_pct": 63.5, "battery_v": 12.61, "ambient_c": 11.5, "ignition": True},
        "v": ENVELOPE_VERSION, "k": "telemetry",
    }
    data: bytes = msgpack.packb(body, use_bin_type=True)
    return data


def _open(plan: LoadPlan, index: int, context: ssl.SSLContext | None) -> socket.socket:
    sock = socket.create_connection((plan.host, plan.port), timeout=_CONNECT_TIMEOUT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if context is not None:
        sock = context.wrap_socket(sock, server_hostname=plan.host)
    sock.sendall(connect_packet(f"bench-load-{plan.token}-{index}"))
    connack = b""
    while len(connack) < 4:
        chunk = sock.recv(4 - len(connack))
        if not chunk:
            raise ConnectionError("broker closed the connection before CONNACK")
        connack += chunk
    if connack[0] != 0x20 or connack[3] != 0:
        raise ConnectionError(f"broker refused the connection: {connack.hex()}")
    sock.settimeout(_SEND_TIMEOUT_S)
    return sock


def generate(plan: LoadPlan, *, on_ready: Callable[[int], None] | None = None) -> LoadReport:
    """Send the plan's messages, paced, within ``plan.max_s``; blocking."""
    context = plan.tls.context() if plan.tls is not None else None
    socks = [_open(plan, i, context) for i in range(plan.connections)]
    vins = [vin_of("TLM", plan.token, i) for i in range(plan.vehicles)]
    topics = [utf8_field(telemetry_topic(vin)) for vin in vins]
    countries = list(COUNTRY_SPOTS)
    spots = [spot_near(countries[i % len(countries)], i) for i in range(plan.vehicles)]
    cap = max(1, int(plan.rate * _CATCH_UP_S))
    sent, error = 0, ""
    cpu0 = time.process_time()
    start_ns = time.time_ns()
    t0 = time.perf_counter()
    if on_ready is not None:
        on_ready(start_ns)
    try:
        next_tick = t0
        while sent < plan.count:
            now = time.perf_counter()
            if now - t0 >= plan.max_s:
                break
            n = min(plan.count, int((now - t0) * plan.rate) + 1) - sent
            if n > 0:
                n = min(n, cap)
                stamp = time.time_ns()
                buffers = [bytearray() for _ in socks]
                for k in range(sent, sent + n):
                    vehicle = k % plan.vehicles
                    lat, lon = spots[vehicle]
                    payload = telemetry_payload(vins[vehicle], k // plan.vehicles, stamp, lat, lon)
                    buffers[vehicle % len(socks)] += publish_packet(topics[vehicle], payload)
                for sock, buffer in zip(socks, buffers, strict=True):
                    if buffer:
                        sock.sendall(buffer)
                sent += n
            next_tick += plan.tick_s
            pause = next_tick - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            else:
                next_tick = time.perf_counter()
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    end_ns = time.time_ns()
    cpu_s = time.process_time() - cpu0
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.sendall(b"\xe0\x00")
        sock.close()
    return LoadReport(sent, start_ns, end_ns, round(cpu_s, 3), error)


def main(argv: list[str]) -> int:
    raw = json.loads(argv[0])
    tls = raw.pop("tls", None)
    plan = LoadPlan(**raw, tls=LoadTls(**tls) if tls else None)

    def ready(start_ns: int) -> None:
        print(json.dumps({"event": "ready", "start_ns": start_ns}), flush=True)

    report = generate(plan, on_ready=ready)
    print(json.dumps({"event": "done", **asdict(report)}), flush=True)
    return 0


class LoadError(RuntimeError):
    """The generator did not start, or did not finish within its bound."""


class LoadProcess:
    """The generator as a child process, driven from asyncio; not reentrant."""

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.start_ns = 0
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self, *, timeout_s: float = 15.0) -> int:
        """Start it and wait until every connection is up; returns its start time (ns)."""
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.loadgen", json.dumps(asdict(self.plan)),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE)
        line = await self._line(timeout_s)
        if line.get("event") != "ready":
            raise LoadError(f"generator did not get ready: {line}")
        self.start_ns = int(line["start_ns"])
        return self.start_ns

    async def finish(self, *, grace_s: float = 10.0) -> LoadReport:
        """Wait for its own end (bounded by the plan's time limit plus ``grace_s``)."""
        line = await self._line(self.plan.max_s + grace_s)
        assert self._proc is not None
        await asyncio.wait_for(self._proc.wait(), grace_s)
        return LoadReport(int(line["sent"]), int(line["start_ns"]), int(line["end_ns"]),
                          float(line["cpu_s"]), str(line["error"]))

    async def stop(self) -> None:
        """Kill it if it is still running (only ever this child, by its own handle)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def _line(self, timeout_s: float) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            raw = await asyncio.wait_for(self._proc.stdout.readline(), timeout_s)
        except TimeoutError:
            await self.stop()
            raise LoadError(f"generator silent for {timeout_s:.0f} s; stopped it") from None
        if not raw:
            code = await self._proc.wait()
            raise LoadError(f"generator exited with {code} (see stderr)")
        parsed: dict[str, Any] = json.loads(raw)
        return parsed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
