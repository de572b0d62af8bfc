"""The backend's sense of time: the scenario's virtual clock when one is announced.

A scenario runner leads virtual time and publishes each change of it, retained, on
``CLOCK_TOPIC``; every backend process that judges days (retention, campaign timeouts,
Teleservice rhythm) follows it, so "six months later" happens in seconds of a test.
Without an announcement the clock tells real time, as in production.

Names (see also ``protocols.clock``): a *clock announcement* is a ``ClockState`` on the
wire; a ``FollowingClock`` is a backend process's clock, which adopts the announcements
it is fed; a *clock feed* is what a broker session needs to feed one (the subscription
and the routing of announcements), decided here and nowhere else: ``clock_feed`` for a
lane that hears the clock on its own session, ``listening_clock`` for a process that
gives the clock a session of its own.

The services lane hears announcements on its own session, in the order the broker
passes them among the cars' messages: a car's call stamped after a jump of 28 days is
then judged after the jump, not before it on a second session that lags.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import gmqtt

from backend.infra.mqtt_link import LaneLink, MessageHandler, WaitingSignal, make_client
from backend.settings import BackendSettings
from protocols.clock import VirtualClock, unpack_clock_state
from protocols.contract import qos_of
from protocols.errors import ProtocolError
from protocols.topics import CLOCK_TOPIC

log = logging.getLogger(__name__)


class FollowingClock:
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


async def _nothing_else(_topic: str, _payload: bytes) -> None:
    """A session that carries only the clock has nothing else to hand on."""


@dataclass(frozen=True, slots=True)
class ClockFeed:
    """How one broker session feeds a ``FollowingClock``: its subscription (none outside
    scenario mode, so nothing published on the clock topic can move a deployed backend)
    and a handler that gives announcements to the clock and every other message on."""

    subscriptions: tuple[gmqtt.Subscription, ...]
    handler: MessageHandler


def clock_feed(clock: FollowingClock, settings: BackendSettings,
               then: MessageHandler = _nothing_else) -> ClockFeed:
    """The feed of ``clock`` on a session whose other messages go to ``then``."""

    async def handle(topic: str, payload: bytes) -> None:
        if topic == CLOCK_TOPIC:
            clock.hear(payload)
            return
        await then(topic, payload)

    follow = settings.follow_scenario_clock
    subscriptions = (gmqtt.Subscription(CLOCK_TOPIC, qos=qos_of("clock")),)
    return ClockFeed(subscriptions if follow else (), handle)


async def listening_clock(settings: BackendSettings, *, role: str, client_id: str,
                          waiting: WaitingSignal | None = None,
                          ) -> tuple[FollowingClock, gmqtt.Client]:
    """A clock and its own MQTT session, as ``role`` on the broker. In scenario mode it
    hears the announcements, the retained one first, and subscribes again after every
    reconnection as the lanes do; otherwise the clock tells real time."""
    clock = FollowingClock()
    feed = clock_feed(clock, settings)
    client = make_client(client_id, persistent=False)
    link = LaneLink(client, worker=client_id, handler=feed.handler,
                    subscriptions=list(feed.subscriptions), on_waiting=waiting)
    await link.open(settings.mqtt_url, tls=settings.mqtt_tls(role))
    return clock, client
