"""The car with acknowledgement faults: the MSD leaves, its ack is held or lost, and the
car's own timer moves the fallback chain on (docs/requirements.md#ecall-r1)."""

from __future__ import annotations

from protocols.envelope import EcallAck, pack
from protocols.topics import ecall_ack_topic
from tests.vehicle_sim.test_car_clock import RecordingLink
from vehicle_sim.car import Car
from vehicle_sim.mqtt_transport import DownlinkHandler
from vehicle_sim.scenario import parse
from vehicle_sim.scenario_cars import car_config

PLAN = """
name: acks
ack_timeout_s: 50ms
vehicles:
  - {id: a, vin: WMW21DH0X0T123451, position: {lat: 50.85, lon: 4.35}, activation_country: BE,
     faults: [FAULT]}
"""


class AnsweringLink(RecordingLink):
    """The broker, with the car's downlink: the test acknowledges what the car sent."""

    handler: DownlinkHandler | None = None

    async def open(self, *, downlink: str | None = None,
                   handler: DownlinkHandler | None = None) -> None:
        self.handler = handler

    def ack(self, vin: str, incident: str, msg_id: int, route: str) -> None:
        assert self.handler is not None
        self.handler(ecall_ack_topic(vin), pack(EcallAck(incident, msg_id, route, 0)))


async def _after_intelligent_ack(fault: str) -> Car:
    """Crash-free SOS: Intelligent MSD #1 leaves, the backend acknowledges it at once, and
    the car is left until its Legal MSD #2 has gone out."""
    plan = parse(PLAN.replace("FAULT", fault))
    link = AnsweringLink()
    car = Car(car_config(plan.vehicles[0], plan), link=link, notify=lambda _m: None,
              warn=lambda _m: None)
    await car.start()
    try:
        car.sos()
        (first,) = await link.until(1)
        link.ack(first.vin, first.incident, first.msg_id, "callcentre")
        assert car.trace is not None and car.trace.transmissions[0].acked_ns is None
        second = (await link.until(2))[1]
        assert (second.variant, second.msg_id) == ("legal", 2)
    finally:
        await car.stop()
    return car


async def test_car_late_intelligent_ack_is_taken_after_the_fallback() -> None:
    """Held until the timer fired, then recorded: after the 50 ms wait, stale by then."""
    car = await _after_intelligent_ack("intelligent_ack_late")
    assert car.trace is not None
    intelligent = car.trace.transmissions[0]
    assert intelligent.route == "callcentre"
    assert intelligent.ack_ms is not None and intelligent.ack_ms >= 40
    assert car.machine.variant == "legal"


async def test_car_lost_intelligent_ack_is_never_taken() -> None:
    car = await _after_intelligent_ack("intelligent_ack_lost")
    assert car.trace is not None
    assert car.trace.transmissions[0].acked_ns is None
    assert car.machine.variant == "legal"
