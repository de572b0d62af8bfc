"""The car's edge to the broker: one MQTT v5 session per TCU, as in a real car.

A TCU keeps a persistent session keyed by its VIN so downlink commands (the backend's
acknowledgement, an operator's MSD update request) reach it after a reconnect. gmqtt
runs on asyncio transports, which set TCP_NODELAY, so a 1 ms eCall does not wait
40 ms for Nagle's algorithm.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from protocols.addresses import MqttTls, mqtt_address, mqtt_ssl

DownlinkHandler = Callable[[str, bytes], Awaitable[None] | None]
Notify = Callable[[str], None]  # what a car's parts tell the person watching
ClientTls = MqttTls | ssl.SSLContext | None  # the identity a link presents to a TLS broker
Identities = Callable[[str], ClientTls]  # an identity (VIN, ...) → its certificate



class BrokerUnreachableError(ConnectionError):
    """The car's broker refused or never answered its connection: said in one line with
    the URL, because a traceback of the socket layer tells a user nothing they can act on."""

    def __init__(self, url: str, cause: OSError) -> None:
        super().__init__(f"cannot reach the broker at {url} ({cause.strerror or cause})")

class Link(Protocol):
    """What a car needs of its connection; ``TcuLink`` on a broker, a recorder in a test."""

    async def open(self, *, downlink: str | None = None,
                   handler: DownlinkHandler | None = None) -> None: ...

    def publish(self, topic: str, payload: bytes, *, qos: int = 1,
                retain: bool = False) -> None: ...

    async def close(self) -> None: ...




class TcuLink:
    """One car's MQTT session; reusable but not reentrant."""

    def __init__(self, client_id: str, mqtt_url: str, *, persistent: bool = True,
                 tls: ClientTls = None) -> None:
        """``tls`` is the car's own certificate (or a ready context) for an ``mqtts://``
        broker, which knows the car by it; the caller issues it, the car only presents it."""
        kwargs: dict[str, Any] = {"session_expiry_interval": 3600} if persistent else {}
        self._client = gmqtt.Client(client_id, clean_session=not persistent, **kwargs)
        self._client.set_config({"reconnect_retries": -1, "reconnect_delay": 1})
        self._url = mqtt_url
        self._tls = tls
        self._open = False

    @property
    def client(self) -> gmqtt.Client:
        return self._client

    async def open(self, *, downlink: str | None = None,
                   handler: DownlinkHandler | None = None) -> None:
        if self._open:
            raise RuntimeError("TcuLink is already open")
        if handler is not None:
            async def _on_message(_c: gmqtt.Client, topic: str, payload: bytes, _qos: int,
                                  _props: Any) -> int:
                result = handler(topic, payload)
                if result is not None:
                    await result
                return 0

            self._client.on_message = _on_message
        subscribed = asyncio.Event()
        if downlink is not None:
            self._subscribe_on_every_connect(downlink, subscribed)
        host, port = mqtt_address(self._url)
        try:
            await self._client.connect(host, port, ssl=mqtt_ssl(self._url, self._tls),
                                       keepalive=30, version=MQTTv50)
        except OSError as exc:
            raise BrokerUnreachableError(self._url, exc) from exc
        self._open = True
        if downlink is not None:
            await asyncio.wait_for(subscribed.wait(), 10)

    def _subscribe_on_every_connect(self, downlink: str, subscribed: asyncio.Event) -> None:
        """Subscribe the downlink after each CONNACK, not only the first.

        A broker that restarts may forget the session's subscriptions while still saying
        "session present"; a car that trusted it would never hear its acknowledgements
        again and fall back to a voice call for nothing."""
        pending: list[int] = []

        def _on_connect(client: gmqtt.Client, *_args: Any) -> None:
            subscribed.clear()
            client.subscriptions = [s for s in client.subscriptions if s.topic != downlink]
            pending[:] = [client.subscribe(gmqtt.Subscription(downlink, qos=1))]

        def _on_subscribe(_client: gmqtt.Client, mid: int, *_args: Any) -> None:
            if mid in pending:
                subscribed.set()

        self._client.on_connect = _on_connect
        self._client.on_subscribe = _on_subscribe

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=qos, retain=retain)

    async def close(self) -> None:
        if self._open:
            self._open = False
            # A message arriving after our TLS close_notify makes SSL raise; closed anyway.
            with contextlib.suppress(ssl.SSLError):
                await self._client.disconnect()
