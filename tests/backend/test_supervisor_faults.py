"""The supervisor gives up a role that keeps crashing, saying why in one line, and lets a
role that waits for its broker wait instead of killing it as hung."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest

from backend.runtime.supervisor import Supervisor, cause_of, gives_up
from cli.local_services import LocalServices
from tests.backend.support import Lanes, signer


def test_a_role_is_given_up_after_enough_crashes_within_the_window() -> None:
    assert not gives_up([1.0, 2.0], now=3.0, crashes=3, window_s=10.0)
    assert gives_up([1.0, 2.0, 3.0], now=3.0, crashes=3, window_s=10.0)
    # Crashes long apart are passing outages, not a broken role.
    assert not gives_up([1.0, 100.0, 200.0], now=200.0, crashes=3, window_s=10.0)


def test_the_cause_is_the_exception_that_ends_the_traceback() -> None:
    traceback = ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>',
                 "    main()", "ValueError: port out of range", "  note: an indented detail"]
    assert cause_of(traceback) == "ValueError: port out of range"
    assert cause_of(["", "   "]) == ""


async def test_a_role_that_crashes_at_every_start_is_given_up_with_its_cause(
        caplog: pytest.LogCaptureFixture) -> None:
    """A broker URL the role cannot parse: it dies at each start, the supervisor backs
    off, then stops everything with the exception named."""
    settings = signer().settings(mqtt_url="mqtt://127.0.0.1:notaport",
                                 worker_id=uuid.uuid4().hex[:8])
    supervisor = Supervisor(settings, roles=("bulk",), give_up_crashes=3,
                            give_up_window_s=60.0)
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="backend.runtime.supervisor"):
        await asyncio.wait_for(supervisor.run(stop), 60.0)
    assert stop.is_set()
    assert supervisor.given_up is not None
    role, line = supervisor.given_up
    assert role == "bulk"
    assert "crashed 3 times" in line and "ProtocolError" in line and "notaport" in line
    assert supervisor.restarts["bulk"] == 2  # restarted twice, not a third time
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert said == [line]


async def test_a_role_waiting_for_its_broker_is_not_killed_by_the_watchdog(
        plain_services: LocalServices) -> None:
    """The broker is down for longer than the watchdog's grace and staleness together: the
    worker keeps saying it waits, is not killed, and proves itself once the broker is back."""
    settings = signer().settings(mqtt_url=plain_services.urls.mqtt_url,
                                 **plain_services.urls.redis_fields(),
                                 worker_id=uuid.uuid4().hex[:8])
    # The grace covers the worker's start (its imports, slow on a busy machine); the
    # outage then outlasts grace and several stale periods.
    grace_s, stale_s = 15.0, 1.0
    supervisor = Supervisor(settings, roles=("bulk",), stale_s=stale_s, grace_s=grace_s)
    stop = asyncio.Event()
    lanes = Lanes(settings)
    with plain_services.mqtt_down():
        running = asyncio.create_task(supervisor.run(stop))
        try:
            deadline = time.monotonic() + 60.0
            # Waited on the supervisor's own view: it heard the worker wait, and the
            # watchdog has had grace and several stale periods in which to kill it.
            while not ("bulk" in supervisor.waiting_for_broker
                       and time.monotonic() - supervisor.started_at("bulk")
                       > grace_s + 3 * stale_s):
                assert time.monotonic() < deadline, "the worker never said it waits"
                await asyncio.sleep(0.1)
            first = supervisor.pid_of("bulk")
        except BaseException:
            stop.set()
            await running
            raise
    try:
        await lanes.wait_ready("bulk", timeout_s=30)
        assert supervisor.watchdog_kills["bulk"] == 0
        assert supervisor.restarts["bulk"] == 0
        assert supervisor.pid_of("bulk") == first
        assert "bulk" not in supervisor.waiting_for_broker
    finally:
        stop.set()
        await running


async def test_a_roles_error_output_is_passed_on_in_whole_lines_and_its_end_kept(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A line longer than a stream reader's limit, and a character split between reads,
    pass through unharmed; the last lines are what the cause is read from."""
    supervisor = Supervisor(signer().settings(), roles=("bulk",))
    stream = asyncio.StreamReader()
    long_line = "x" * 200_000
    data = f"Traceback (most recent call last):\n{long_line}\nValueError: caf\u00e9\n".encode()
    split = data.index("\u00e9".encode()) + 1  # between the two bytes of é
    relaying = asyncio.create_task(supervisor._relay_errors("bulk", stream))
    stream.feed_data(data[:split])
    stream.feed_data(data[split:])
    stream.feed_eof()
    await relaying
    assert capsys.readouterr().err.replace("\n", "") == data.decode().replace("\n", "")
    assert cause_of(supervisor._last_error_lines["bulk"]) == "ValueError: caf\u00e9"
