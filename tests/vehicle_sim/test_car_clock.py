"""The car tells time by the clock it is given: a scenario's MSD carries the scenario's time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from protocols.clock import parse_instant
from protocols.envelope import EcallMessage, unpack
from protocols.msd.codec import decode_msd
from protocols.topics import parse_topic
from vehicle_sim.car import Car
from vehicle_sim.car_steps import perform
from vehicle_sim.clock_leader import scenario_clock
from vehicle_sim.mqtt_transport import DownlinkHandler
from vehicle_sim.scenario import Scenario, SosEvent, parse
from vehicle_sim.scenario_cars import car_config
from vehicle_sim.trace import IncidentTrace

MARCH = """
name: march
start: 2026-03-10T08:00
ack_timeout_s: 50ms
vehicles:
  - {id: a, vin: WMW21DH0X0T123451, position: {lat: 50.85, lon: 4.35}, activation_country: BE,
     intelligent_ecall: {bought: true}}
  - {id: b, vin: WMW21DH0X0T123452, position: {lat: 50.85, lon: 4.35}, activation_country: BE,
     faults: [intelligent_unreachable]}
events:
  - {at: 0.1s, vehicle: a, sos: {}}
  - {at: 0.2s, vehicle: b, sos: {}}
"""
REAL_NS = 1_700_000_000 * 10**9  # a wall time far from March 2026, held still


class RecordingLink:
    """Stands for the broker: keeps what the car publishes and says when an eCall left."""

    def __init__(self) -> None:
        self.ecalls: list[EcallMessage] = []
        self.sent = asyncio.Event()

    async def open(self, *, downlink: str | None = None,
                   handler: DownlinkHandler | None = None) -> None:
        return None

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        message = unpack(payload) if parse_topic(topic).kind == "ecall" else None
        if isinstance(message, EcallMessage):
            self.ecalls.append(message)
            self.sent.set()

    async def close(self) -> None:
        return None

    async def until(self, count: int) -> list[EcallMessage]:
        while len(self.ecalls) < count:
            self.sent.clear()
            await asyncio.wait_for(self.sent.wait(), 5.0)
        return self.ecalls


async def _sos(plan: Scenario, vehicle: int, *,
               real_ns: int = REAL_NS) -> tuple[EcallMessage, IncidentTrace]:
    """The first eCall that leaves ``plan``'s car on its SOS event, on the scenario's clock."""
    clock = scenario_clock(plan, real_ns=lambda: real_ns)
    link = RecordingLink()
    vdef = plan.vehicles[vehicle]
    car = Car(car_config(vdef, plan), link=link, notify=lambda _m: None, warn=lambda _m: None,
              clock=clock.now)
    (event,) = [e for e in plan.events if e.vehicle == vdef.id]
    assert isinstance(event, SosEvent)
    await car.start()
    try:
        perform(event, car)
        (sent,) = await link.until(1)
    finally:
        await car.stop()
    assert car.trace is not None
    return sent, car.trace


async def test_car_clock_msd_of_a_march_scenario_is_stamped_in_march() -> None:
    """Run twice on a wall clock of 2023, the MSD says 2026-03-10 08:00 both times."""
    plan = parse(MARCH)
    first, _ = await _sos(plan, 0)
    second, _ = await _sos(plan, 0, real_ns=REAL_NS + 3_600 * 10**9)
    stamp = decode_msd(first.msd).timestamp
    assert stamp == int(parse_instant("2026-03-10T08:00"))
    assert datetime.fromtimestamp(stamp, UTC).month == 3
    assert decode_msd(second.msd).timestamp == stamp


async def test_car_clock_timer_runs_while_the_scenario_clock_stands_still() -> None:
    """A frozen scenario clock does not hold the acknowledgement timer: the Legal eCall
    follows the lost Intelligent one after the real wait, with the trigger's timestamp."""
    plan = parse(MARCH.replace("ack_timeout_s", "time_scale: 0\nack_timeout_s"))
    sent, trace = await _sos(plan, 1)
    assert (sent.variant, sent.msg_id) == ("legal", 2)
    assert trace.timestamps == [int(parse_instant("2026-03-10T08:00"))] * 2
    assert decode_msd(sent.msd).timestamp == trace.timestamps[0]


async def test_car_clock_without_a_scenario_the_car_keeps_wall_time() -> None:
    """A car given no clock stamps its MSD with the real time of the trigger."""
    plan = parse(MARCH)
    link = RecordingLink()
    car = Car(car_config(plan.vehicles[0], plan), link=link, notify=lambda _m: None,
              warn=lambda _m: None)
    await car.start()
    before = int(time.time())
    try:
        car.sos()
        (sent,) = await link.until(1)
    finally:
        await car.stop()
    assert before <= decode_msd(sent.msd).timestamp <= time.time()
