"""A role started before its broker waits for it and says so in one line naming it
(``backend.infra.mqtt_link.connect``), instead of crashing into a restart loop."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from backend.infra.mqtt_link import broker_named, connect, disconnect, make_client
from cli.local_services import LocalServices

pytestmark = pytest.mark.broker


def test_a_broker_is_named_without_its_credentials() -> None:
    assert broker_named("mqtts://lane:secret@10.0.0.7:8883") == "mqtts://10.0.0.7:8883"
    assert broker_named("mqtt://broker.example") == "mqtt://broker.example:1883"


async def _said(caplog: pytest.LogCaptureFixture, text: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(text in r.getMessage() for r in caplog.records):
            return True
        await asyncio.sleep(0.05)  # polling the log while the client retries
    return False


async def test_connect_waits_for_a_broker_that_is_down_and_says_so_once(
        plain_services: LocalServices, caplog: pytest.LogCaptureFixture) -> None:
    url = plain_services.urls.mqtt_url
    client = make_client("broker-wait-test", persistent=False)
    with caplog.at_level(logging.WARNING, logger="backend.infra.mqtt_link"):
        with plain_services.mqtt_down():
            connecting = asyncio.create_task(connect(client, url))
            assert await _said(caplog, "cannot reach the broker at", 10.0)
            await asyncio.sleep(1.6)  # the outage lasts through several attempts (0.5, 1 s)
            assert not connecting.done()
        await asyncio.wait_for(connecting, 15.0)
    try:
        assert client.is_connected
        lines = [r.getMessage() for r in caplog.records]
        assert sum("cannot reach the broker" in line for line in lines) == 1, lines
        assert any(line.startswith(f"reached the broker at {broker_named(url)}")
                   for line in lines), lines
        assert not any("Traceback" in line for line in lines)
    finally:
        await disconnect(client)
