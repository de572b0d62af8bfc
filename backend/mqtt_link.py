"""The backend's edge to the broker: gmqtt clients set up the way the eCall lane needs.

gmqtt parses each read chunk in bulk and runs on asyncio transports, which set
TCP_NODELAY; paho-based clients cost about 3x the CPU per message and leave Nagle on
(see the performance notes in the README). Persistent sessions (clean_session False
with a session expiry) let the broker keep QoS 1 messages while a worker restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from protocols.addresses import MqttTls, mqtt_address, mqtt_ssl

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], Awaitable[None]]




def make_client(
    client_id: str,
    *,
    persistent: bool,
    session_expiry_s: int = 3600,
    manual_ack: bool = False,
    receive_maximum: int | None = None,
) -> gmqtt.Client:
    """A gmqtt client; ``manual_ack`` sends PUBACK only after the handler returns."""
    kwargs: dict[str, Any] = {}
    if persistent:
        kwargs["session_expiry_interval"] = session_expiry_s
    if receive_maximum is not None:
        kwargs["receive_maximum"] = receive_maximum
    client = gmqtt.Client(
        client_id,
        clean_session=not persistent,
        optimistic_acknowledgement=not manual_ack,
        **kwargs,
    )
    client.set_config({"reconnect_retries": -1, "reconnect_delay": 1})
    return client


def on_messages(client: gmqtt.Client, handler: MessageHandler) -> None:
    """Route every inbound message to ``handler``; PUBACK (if manual) follows its return.

    The handler owns its errors; anything that still escapes is logged and the
    message is acknowledged as a failure so one bad message cannot wedge the session.
    """

    async def _on_message(_c: gmqtt.Client, topic: str, payload: bytes, _qos: int,
                          _props: Any) -> int:
        try:
            await handler(topic, payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handler failed")
            return 0x80  # unspecified error
        return 0

    client.on_message = _on_message


async def connect(client: gmqtt.Client, url: str, *, tls: MqttTls | None = None,
                  keepalive: int = 30) -> None:
    """Connect to ``url``; an ``mqtts://`` broker gets ``tls``, the role's certificate."""
    host, port = mqtt_address(url)
    await client.connect(host, port, ssl=mqtt_ssl(url, tls), keepalive=keepalive,
                         version=MQTTv50)


async def subscribe(client: gmqtt.Client, subscriptions: list[gmqtt.Subscription],
                    *, timeout_s: float = 10.0) -> None:
    """Subscribe and wait for the broker's SUBACK, so a caller knows the lane is live."""
    loop = asyncio.get_running_loop()
    acked: asyncio.Future[None] = loop.create_future()

    def _on_subscribe(_c: gmqtt.Client, _mid: int, _qos: Any, _props: Any) -> None:
        if not acked.done():
            acked.set_result(None)

    client.on_subscribe = _on_subscribe
    client.subscribe(subscriptions)
    await asyncio.wait_for(acked, timeout_s)
