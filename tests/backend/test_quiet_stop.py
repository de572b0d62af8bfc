"""A lane stopped with deliveries in flight says so once, not once per message."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from backend.infra.mqtt_link import quiet_stop

CANCELLED = {"message": "Exception in callback MqttPackageHandler.__handle_publish_callback"
                        "(qos=1, mid=7)", "exception": asyncio.CancelledError()}


async def test_cancelled_deliveries_at_a_stop_are_said_once(
        caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    others: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: others.append(context))
    try:
        quiet_stop(loop)
        with caplog.at_level(logging.INFO, logger="backend.infra.mqtt_link"):
            for _ in range(300):
                loop.call_exception_handler(dict(CANCELLED))
            loop.call_exception_handler({"message": "a bug", "exception": ValueError("x")})
    finally:
        loop.set_exception_handler(None)
    said = [r for r in caplog.records if "left unacknowledged" in r.getMessage()]
    assert len(said) == 1
    assert [c["message"] for c in others] == ["a bug"]  # every other error still reported
