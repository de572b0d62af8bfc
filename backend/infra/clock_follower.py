"""The backend's sense of time: the scenario's virtual clock when one is announced.

A scenario runner leads virtual time and publishes each change of it, retained, on
``CLOCK_TOPIC``; every backend process that judges days (retention, campaign timeouts,
Teleservice rhythm) follows it, so "six months later" happens in seconds of a test.
Without an announcement the clock tells real time, as in production.
"""

from __future__ import annotations

import asyncio
import logging

import gmqtt

from backend.infra.mqtt_link import LaneLink, make_client
from protocols.addresses import MqttTls
from protocols.clock import VirtualClock, unpack_clock_state
from protocols.errors import ProtocolError
from protocols.topics import CLOCK_TOPIC

log = logging.getLogger(__name__)


class BackendClock:
    """A ``protocols.clock.Clock`` that adopts the announcements it hears."""

    def __init__(self) -> None:
        self._clock = VirtualClock.following()
        self.changed = asyncio.Event()  # set on every adopted announcement

    def now(self) -> float:
        return self._clock.now()

    def hear(self, payload: bytes) -> bool:
        """Adopt an announcement; a malformed one is logged and ignored, never raised."""
        try:
            state = unpack_clock_state(payload)
        except ProtocolError as exc:
            log.warning("ignored clock announcement: %s", exc)
            return False
        adopted = self._clock.follow(state)
        if adopted:
            self.changed.set()
        return adopted


async def listening_clock(mqtt_url: str, client_id: str, *,
                          follow: bool,
                          tls: MqttTls | None = None) -> tuple[BackendClock, gmqtt.Client]:
    """A clock and its own MQTT session. With ``follow`` (scenario mode) it hears the
    announcements, the retained one first, and subscribes again after every
    reconnection as the lanes do; without it the clock tells real time and nothing a
    client publishes on the clock topic can move it."""
    clock = BackendClock()
    client = make_client(client_id, persistent=False)

    async def hear(_topic: str, payload: bytes) -> None:
        clock.hear(payload)

    subscriptions = [gmqtt.Subscription(CLOCK_TOPIC, qos=1)] if follow else []
    link = LaneLink(client, worker=client_id, handler=hear, subscriptions=subscriptions)
    await link.open(mqtt_url, tls=tls)
    return clock, client
