"""A deployed backend keeps its own clock; only scenario mode follows announcements."""

from __future__ import annotations

import asyncio
import time
import uuid

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from backend.infra.clock_follower import listening_clock
from backend.infra.mqtt_link import disconnect
from protocols.addresses import SCENARIO_RUNNER_IDENTITY, MqttTls
from protocols.clock import ClockState, pack_clock_state
from protocols.topics import CLOCK_TOPIC
from tests.backend.support import signer
from tests.brokers import client_address

YEAR_AHEAD_S = 400 * 86_400.0


def _tls(mqtt_url: str) -> MqttTls | None:
    """The desks role's certificate on the test broker (what a clock listener presents)."""
    return signer().settings(mqtt_url=mqtt_url).mqtt_tls("desks")


async def _announce_far_ahead(mqtt_url: str) -> None:
    """Publish a clock 400 days ahead (not retained), as the one identity besides the
    backend that the broker lets write the clock could: the backend must not rely on it."""
    client = gmqtt.Client(f"clock-forger-{uuid.uuid4().hex[:8]}")
    host, port, tls = client_address(mqtt_url, SCENARIO_RUNNER_IDENTITY)
    await client.connect(host, port, ssl=tls, version=MQTTv50)
    client.publish(CLOCK_TOPIC, pack_clock_state(ClockState(
        virtual_anchor=time.time() + YEAR_AHEAD_S, real_anchor_ns=time.time_ns(), scale=1.0,
        seq=1, run=uuid.uuid4().hex[:8])), qos=1)
    await asyncio.wait_for(client._persistent_storage.wait_empty(), 5)  # the broker has it
    await disconnect(client)


async def test_clock_follow_scenario_mode_adopts_an_announcement(mqtt_url: str) -> None:
    """In scenario mode the clock jumps to what the runner announces."""
    clock, client = await listening_clock(mqtt_url, f"t-follow-{uuid.uuid4().hex[:6]}",
                                          follow=True, tls=_tls(mqtt_url))
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
    own, own_client = await listening_clock(mqtt_url, f"t-own-{uuid.uuid4().hex[:6]}",
                                            follow=False, tls=_tls(mqtt_url))
    witness, witness_client = await listening_clock(
        mqtt_url, f"t-witness-{uuid.uuid4().hex[:6]}", follow=True, tls=_tls(mqtt_url))
    try:
        await _announce_far_ahead(mqtt_url)
        await asyncio.wait_for(witness.changed.wait(), 5)
        assert not own.changed.is_set()
        assert abs(own.now() - time.time()) < 5
    finally:
        await disconnect(own_client)
        await disconnect(witness_client)
