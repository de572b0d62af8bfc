"""The scenario's virtual clock, and its announcement so the backend follows it.

The runner leads the clock (``protocols.clock``): it starts at the scenario's ``start``
and runs at its ``time_scale``; every car reads it, and the backend, in scenario mode,
follows what is announced on the clock topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable

from protocols.clock import NS_PER_S, VirtualClock, pack_clock_state, parse_instant
from protocols.topics import CLOCK_TOPIC
from vehicle_sim.mqtt_transport import ClientTls, TcuLink
from vehicle_sim.scenario import Scenario


def scenario_clock(scenario: Scenario, *,
                   real_ns: Callable[[], int] = time.time_ns) -> VirtualClock:
    """The scenario's virtual clock: at its ``start`` (or now) and its ``time_scale``.

    Every car reads it, so what a car stamps (an MSD, a Teleservice call) happens in the
    scenario's time, and a run set in March stamps March whatever day it runs on."""
    start = parse_instant(scenario.start) if scenario.start else real_ns() / NS_PER_S
    return VirtualClock.starting_at(start, scale=scenario.time_scale, run=uuid.uuid4().hex[:12],
                                    real_ns=real_ns)


class ClockLeader:
    """The scenario's virtual clock, announced so the backend follows it.

    Announced retained where the broker keeps retained messages, so a backend role that
    starts late hears it at once. A broker with retain switched off (the secure local
    broker: nothing of the platform is retained there) gets the announcement again every
    ``REANNOUNCE_S`` instead, so a role that restarts mid-run catches up within that.
    """

    REANNOUNCE_S = 1.0

    def __init__(self, clock: VirtualClock, mqtt_url: str, *, retain: bool = True,
                 tls: ClientTls = None) -> None:
        self.clock = clock
        self._retain = retain
        self._link = TcuLink(f"scenario-clock-{clock.state.run}", mqtt_url, persistent=False,
                             tls=tls)
        self._repeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._link.open()
        self.announce()
        if not self._retain:
            self._repeat = asyncio.create_task(self._reannounce(), name="clock-reannounce")

    async def _reannounce(self) -> None:
        while True:
            await asyncio.sleep(self.REANNOUNCE_S)  # a period, not a wait for anything
            self.announce()

    def announce(self) -> None:
        self._link.publish(CLOCK_TOPIC, pack_clock_state(self.clock.state), retain=self._retain)

    async def stop(self) -> None:
        if self._repeat is not None:
            self._repeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._repeat
            self._repeat = None
        await self._link.close()
