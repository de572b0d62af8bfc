"""Log lines an operator can ship: JSON on request, incident ids kept, VINs never; and a
lost broker said in a few lines rather than one per reconnect attempt."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time

import gmqtt
import pytest

from backend.infra.log_lines import JsonLines, without_vins
from backend.infra.mqtt_link import RECONNECTS, LaneLink, ReconnectLines, disconnect, make_client
from cli.local_services import LocalServices, free_port
from tests.backend.support import new_vin

VIN = new_vin()


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("backend.test", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_a_json_line_carries_the_incident_and_never_the_vin() -> None:
    line = json.loads(JsonLines("emergency").format(_record(
        "ecall incident=%s msg=%d from %s", "inc-42", 1, VIN)))
    assert line["incident"] == "inc-42" and line["role"] == "emergency"
    assert line["level"] == "warning" and line["logger"] == "backend.test"
    assert VIN not in line["message"] and "<vin>" in line["message"]
    given = json.loads(JsonLines().format(_record("handed over", incident="inc-7")))
    assert given["incident"] == "inc-7" and "role" not in given


def test_a_json_line_of_an_exception_keeps_the_traceback_without_vins() -> None:
    try:
        raise ValueError(f"no such car {VIN}")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = json.loads(JsonLines().format(record))
    assert "ValueError: no such car <vin>" in line["error"] and VIN not in line["error"]


def test_only_vin_shaped_words_are_redacted() -> None:
    assert without_vins(f"{VIN} and WMW21DH0X0T10000") == "<vin> and WMW21DH0X0T10000"
    assert without_vins("ABCDEFGHJKLMNPRST 0123456789abcdef0") == (
        "ABCDEFGHJKLMNPRST 0123456789abcdef0")  # no digit; lower case


def test_a_role_writes_json_lines_when_asked() -> None:
    """A role whose broker is not there says so, as JSON on its error output."""
    env = {**os.environ, "TELEMATICS_LOG_FORMAT": "json",
           "TELEMATICS_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}"}
    with subprocess.Popen([sys.executable, "-m", "backend", "bulk"], env=env,
                          stderr=subprocess.PIPE, text=True) as role:
        try:
            assert role.stderr is not None
            line = json.loads(role.stderr.readline())
        finally:
            role.terminate()
        # SIGTERM stops a role even while it waits for its broker.
        assert role.wait(timeout=20) == 0
    assert line["role"] == "bulk" and line["level"] == "error"
    assert line["message"].startswith("cannot reach the broker at mqtt://127.0.0.1:")


def _gmqtt_record(message: str, *args: object, exc: BaseException | None = None
                  ) -> logging.LogRecord:
    return logging.LogRecord("gmqtt.client", logging.WARNING, __file__, 1, message, args,
                               (type(exc), exc, None) if exc is not None else None)


def test_failed_reconnects_become_a_line_a_minute() -> None:
    now = [0.0]
    lines = ReconnectLines(clock=lambda: now[0], every_s=60.0)
    lines.broker = "mqtt://127.0.0.1:1883"
    lost = _gmqtt_record("[EXC: CONN LOST]", exc=ConnectionResetError())
    assert lines.filter(lost) and lost.exc_info is None
    assert lost.getMessage() == ("lost the connection to mqtt://127.0.0.1:1883 "
                                 "(ConnectionResetError); reconnecting")
    said = []
    for second in range(125):
        now[0] = float(second)
        record = _gmqtt_record("[Client] failed to reconnect. Number of retries: %s. "
                               "Reason: %s", second + 1, ConnectionRefusedError(111, "refused"))
        if lines.filter(record):
            said.append(record.getMessage())
    assert said == [
        "cannot reach mqtt://127.0.0.1:1883 again (refused); reconnecting every second, "
        "said again once a minute",
        "still cannot reach mqtt://127.0.0.1:1883: 60 attempts in the last 60 s, 60 s since "
        "the first",
        "still cannot reach mqtt://127.0.0.1:1883: 60 attempts in the last 60 s, 120 s since "
        "the first"]
    now[0] = 130.0
    assert lines.reconnected() == ("reached mqtt://127.0.0.1:1883 again after 125 failed "
                                   "attempts in 130 s")
    assert lines.reconnected() is None
    other = _gmqtt_record("[MqttPackageHandler] CONNACK: %s", "0x87")
    assert lines.filter(other) and other.getMessage() == "[MqttPackageHandler] CONNACK: 0x87"


async def test_a_broker_outage_costs_a_few_lines_not_one_per_attempt(
        plain_services: LocalServices, caplog: pytest.LogCaptureFixture) -> None:
    client = make_client("reconnect-lines-test", persistent=False)

    async def ignore(_topic: str, _payload: bytes) -> None:
        return None

    link = LaneLink(client, worker="reconnect-lines-test", handler=ignore,
                    subscriptions=[gmqtt.Subscription("test/reconnect-lines", qos=0)])
    await link.open(plain_services.urls.mqtt_url)
    try:
        with caplog.at_level(logging.WARNING):
            with plain_services.mqtt_down():
                deadline = time.monotonic() + 30.0
                while RECONNECTS.attempts < 4:  # gmqtt tries about once a second
                    assert time.monotonic() < deadline, "gmqtt never tried to reconnect"
                    await asyncio.sleep(0.1)
            deadline = time.monotonic() + 30.0
            while link.connections < 2:
                assert time.monotonic() < deadline, "the link never came back"
                await asyncio.sleep(0.1)
        lines = [r.getMessage() for r in caplog.records]
        assert not any(r.exc_info for r in caplog.records), lines
        assert sum("cannot reach" in line for line in lines) == 1, lines
        assert not any("failed to reconnect" in line for line in lines), lines
        assert any(line.startswith("reached mqtt://") for line in lines), lines
    finally:
        await disconnect(client)
