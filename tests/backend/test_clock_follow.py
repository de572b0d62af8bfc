"""A deployed backend keeps its own clock; only scenario mode follows announcements.

Every way a backend process hears the clock goes through one feed: its own session
(``listening_clock``: desks, API) or a lane's session (``clock_feed``: services)."""

from __future__ import annotations

import asyncio
import time
import uuid

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from backend.infra.clock_follower import FollowingClock, clock_feed, listening_clock
from backend.infra.mqtt_link import disconnect
from backend.settings import BackendSettings
from protocols.addresses import SCENARIO_RUNNER_IDENTITY
from protocols.clock import ClockState, pack_clock_state
from protocols.topics import CLOCK_TOPIC
from tests.backend.support import signer
from tests.brokers import client_address

YEAR_AHEAD_S = 400 * 86_400.0


def _settings(mqtt_url: str, *, follow: bool) -> BackendSettings:
    """A backend on the test broker, in scenario mode or not."""
    return signer().settings(mqtt_url=mqtt_url, follow_scenario_clock=follow)


def _announcement(at: float) -> bytes:
    return pack_clock_state(ClockState(virtual_anchor=at, real_anchor_ns=time.time_ns(),
                                       scale=1.0, seq=1, run=uuid.uuid4().hex[:8]))


async def _announce_far_ahead(mqtt_url: str) -> None:
    """Publish a clock 400 days ahead (not retained), as the one identity besides the
    backend that the broker lets write the clock could: the backend must not rely on it."""
    client = gmqtt.Client(f"clock-forger-{uuid.uuid4().hex[:8]}")
    host, port, tls = client_address(mqtt_url, SCENARIO_RUNNER_IDENTITY)
    await client.connect(host, port, ssl=tls, version=MQTTv50)
    client.publish(CLOCK_TOPIC, _announcement(time.time() + YEAR_AHEAD_S), qos=1)
    await asyncio.wait_for(client._persistent_storage.wait_empty(), 5)  # the broker has it
    await disconnect(client)


async def test_clock_follow_scenario_mode_adopts_an_announcement(mqtt_url: str) -> None:
    """In scenario mode the clock jumps to what the runner announces."""
    clock, client = await listening_clock(_settings(mqtt_url, follow=True), role="desks",
                                          client_id=f"t-follow-{uuid.uuid4().hex[:6]}")
    try:
        await _announce_far_ahead(mqtt_url)
        await asyncio.wait_for(clock.changed.wait(), 5)
        assert clock.now() > time.time() + YEAR_AHEAD_S - 60
    finally:
        await disconnect(client)


async def test_clock_follow_off_by_default_ignores_a_forged_announcement(
        mqtt_url: str) -> None:
    """Outside scenario mode nothing published on the clock topic moves the backend's
    time; a second, following listener proves the announcement did go out."""
    own, own_client = await listening_clock(_settings(mqtt_url, follow=False), role="desks",
                                            client_id=f"t-own-{uuid.uuid4().hex[:6]}")
    witness, witness_client = await listening_clock(
        _settings(mqtt_url, follow=True), role="desks",
        client_id=f"t-witness-{uuid.uuid4().hex[:6]}")
    try:
        await _announce_far_ahead(mqtt_url)
        await asyncio.wait_for(witness.changed.wait(), 5)
        assert not own.changed.is_set()
        assert abs(own.now() - time.time()) < 5
    finally:
        await disconnect(own_client)
        await disconnect(witness_client)


async def test_clock_feed_gives_announcements_to_the_clock_and_the_rest_on() -> None:
    """On a lane's session the feed adds the clock topic in scenario mode only, hands an
    announcement to the clock and every other message to the lane."""
    handed: list[str] = []

    async def lane(topic: str, _payload: bytes) -> None:
        handed.append(topic)

    clock = FollowingClock()
    following = clock_feed(clock, _settings("mqtt://127.0.0.1:1883", follow=True), then=lane)
    assert [s.topic for s in following.subscriptions] == [CLOCK_TOPIC]
    await following.handler(CLOCK_TOPIC, _announcement(time.time() + YEAR_AHEAD_S))
    await following.handler("car/topic", b"call")
    assert clock.changed.is_set() and clock.now() > time.time() + YEAR_AHEAD_S - 60
    assert handed == ["car/topic"]
    deployed = clock_feed(FollowingClock(), _settings("mqtt://127.0.0.1:1883", follow=False))
    assert deployed.subscriptions == ()
