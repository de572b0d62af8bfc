"""The broker floor: one message at a time through the broker, with gmqtt on both ends.

An eCall figure means little without the bare cost of the hop it cannot avoid, measured
in the same run on the same (noisy, shared) machine with the same client library the
backend uses. Publisher and subscriber live in this process on two connections, so both
timestamps come from one monotonic clock and the figure is one-way, not a round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Final

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from protocols.addresses import MqttTls, mqtt_address, mqtt_ssl

PAYLOAD_BYTES: Final = 200
_SEQ_BYTES: Final = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class FloorPlan:
    """How many one-at-a-time messages to time; every wait is bounded."""

    samples: int = 500
    warmup: int = 100
    qos: int = 1
    gap_s: float = 0.001
    timeout_s: float = 1.0
    max_s: float = 20.0


@dataclass(slots=True)
class FloorResult:
    samples_ns: list[int] = field(default_factory=list)
    lost: int = 0


def _payload(seq: int) -> bytes:
    return seq.to_bytes(_SEQ_BYTES, "big") + b"\x00" * (PAYLOAD_BYTES - _SEQ_BYTES)


async def _connect(client_id: str, mqtt_url: str, tls: MqttTls | None) -> gmqtt.Client:
    host, port = mqtt_address(mqtt_url)
    client = gmqtt.Client(client_id, clean_session=True)
    await client.connect(host, port, ssl=mqtt_ssl(mqtt_url, tls), keepalive=30,
                         version=MQTTv50)
    return client


async def measure_floor(mqtt_url: str, plan: FloorPlan, *,
                        tls: MqttTls | None = None) -> FloorResult:
    """Publish→receive times of ``plan.samples`` messages after ``plan.warmup`` untimed ones;
    ``tls`` is the benchmark's certificate for an ``mqtts://`` broker."""
    token = secrets.token_hex(4)
    topic = f"bench/v1/floor/{token}"
    loop = asyncio.get_running_loop()
    waiting: dict[int, asyncio.Future[int]] = {}

    def on_message(_c: gmqtt.Client, _topic: str, payload: bytes, _qos: int, _p: Any) -> int:
        arrived = time.perf_counter_ns()
        pending = waiting.pop(int.from_bytes(payload[:_SEQ_BYTES], "big"), None)
        if pending is not None and not pending.done():
            pending.set_result(arrived)
        return 0

    subscribed: asyncio.Future[None] = loop.create_future()

    def on_subscribe(*_args: Any) -> None:
        if not subscribed.done():
            subscribed.set_result(None)

    result = FloorResult()
    subscriber = await _connect(f"bench-floor-sub-{token}", mqtt_url, tls)
    publisher: gmqtt.Client | None = None
    try:
        subscriber.on_message = on_message
        subscriber.on_subscribe = on_subscribe
        subscriber.subscribe(gmqtt.Subscription(topic, qos=plan.qos))
        await asyncio.wait_for(subscribed, 10.0)
        publisher = await _connect(f"bench-floor-pub-{token}", mqtt_url, tls)
        deadline = time.monotonic() + plan.max_s
        total = plan.warmup + plan.samples
        for seq in range(total):
            if time.monotonic() >= deadline:
                result.lost += min(plan.samples, total - seq)
                break
            arrival: asyncio.Future[int] = loop.create_future()
            waiting[seq] = arrival
            started = time.perf_counter_ns()
            publisher.publish(topic, _payload(seq), qos=plan.qos)
            try:
                arrived = await asyncio.wait_for(arrival, plan.timeout_s)
            except TimeoutError:
                waiting.pop(seq, None)
                if seq >= plan.warmup:
                    result.lost += 1
                continue
            if seq >= plan.warmup:
                result.samples_ns.append(arrived - started)
            await asyncio.sleep(plan.gap_s)
    finally:
        for client in (publisher, subscriber):
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.disconnect(), 5.0)
    return result
