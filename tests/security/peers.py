"""MQTT v5 clients that present a certificate, for the attack tests; they record what
they receive and wait on conditions with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import uuid
from collections.abc import Callable
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from cli.local_services import LocalServices
from protocols.addresses import mqtt_address

WAIT_S = 5.0


class Peer:
    """One connection as ``identity`` (a VIN or a backend name) to the listener for it."""

    def __init__(self, services: LocalServices, identity: str, *,
                 client_id: str | None = None, backend: bool | None = None) -> None:
        self.identity = identity
        is_backend = identity.startswith("backend-") if backend is None else backend
        self.url = services.urls.mqtt_url if is_backend else services.urls.cars_mqtt_url
        tls = services.identity(identity)
        assert tls is not None
        self._context = tls.context()
        self.client = gmqtt.Client(client_id or f"{identity}-{uuid.uuid4().hex[:6]}",
                                   clean_session=True)
        self.received: list[tuple[str, bytes]] = []
        self.granted: list[int] = []
        self.disconnected = asyncio.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = lambda *_a: self.disconnected.set()

    def _on_message(self, _c: gmqtt.Client, topic: str, payload: bytes, _qos: int,
                    _props: Any) -> int:
        self.received.append((topic, payload))
        return 0

    def _on_subscribe(self, _c: gmqtt.Client, _mid: int, qos: Any, _props: Any) -> None:
        self.granted.extend(qos)

    async def connect(self) -> Peer:
        self.client.set_config({"reconnect_retries": 0})
        await self.client.connect(*mqtt_address(self.url), ssl=self._context,
                                  version=MQTTv50)
        return self

    async def subscribe(self, topic: str) -> None:
        before = len(self.granted)
        self.client.subscribe(gmqtt.Subscription(topic, qos=1))
        await until(lambda: len(self.granted) > before)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain)

    def payloads(self, topic: str | None = None) -> list[bytes]:
        return [p for t, p in self.received if topic is None or t == topic]

    async def close(self) -> None:
        # asyncio's TLS shutdown raises when the broker's last packet (a PUBACK) is still
        # unread as the DISCONNECT goes out; the connection is closed either way.
        if self.client.is_connected:
            with contextlib.suppress(ssl.SSLError):
                await self.client.disconnect()


async def until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Poll ``condition`` until it holds; fail the test at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.01)
