"""A call that breaks its 50 KB budget is refused by the car, in words, and the run goes on."""

from __future__ import annotations

from protocols.contract import SAFETY_QOS_RULE
from protocols.rejection import Rejection, pack_rejection
from protocols.teleservice import TELESERVICE_MAX_BYTES, TELESERVICE_RULE, unpack_call
from protocols.topics import ecall_topic, parse_topic, rejected_topic
from vehicle_sim.car import Car
from vehicle_sim.car_services import CarServices
from vehicle_sim.car_steps import perform
from vehicle_sim.mqtt_transport import DownlinkHandler
from vehicle_sim.scenario import DriveEvent, FaultEvent, parse
from vehicle_sim.scenario_cars import car_config

VIN = "WMW71DH0X0T700009"
# Thousands of codes: far more than one 50 KB request holds (about six bytes each).
MANY_CODES = [f"P{n:04d}" for n in range(TELESERVICE_MAX_BYTES // 5)]


class RecordingLink:
    """Stands for the broker: keeps every (topic, payload) the car publishes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.handler: DownlinkHandler | None = None

    async def open(self, *, downlink: str | None = None,
                   handler: DownlinkHandler | None = None) -> None:
        self.handler = handler

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self.sent.append((topic, payload))

    async def close(self) -> None:
        return None


def _services(*, opted_in: bool) -> tuple[CarServices, RecordingLink, list[str]]:
    link, warnings = RecordingLink(), list[str]()
    car = CarServices(vin=VIN, propulsion=["gasoline"], odometer_km=10_000, os_version=8,
                      smart_opt_in=opted_in, clock=lambda: 1_772_352_000.0,
                      position=lambda: (50.85, 4.35), publish=link.publish,
                      notify=lambda _m: None, warn=warnings.append, label="big")
    return car, link, warnings


def test_car_refusals_oversize_call_is_refused_with_its_rule() -> None:
    """Thousands of codes: nothing leaves, the warning names the size and the rule."""
    car, link, warnings = _services(opted_in=False)
    car.check(fault_codes=MANY_CODES)
    assert link.sent == []
    assert car.calls == []
    (warning,) = warnings
    assert "Teleservice call (service_need) refused" in warning
    assert TELESERVICE_RULE in warning
    assert car.refusals == warnings


def test_car_refusals_smart_transfer_is_refused_and_the_call_too() -> None:
    """The Smart Maintenance transfer shares the budget: both are refused, each once."""
    car, link, warnings = _services(opted_in=True)
    car.check(fault_codes=MANY_CODES, trip_ended=True)
    assert link.sent == []
    assert [w.split(" refused")[0] for w in warnings] == [
        "big: Smart Maintenance transfer (trip)", "big: Teleservice call (service_need)"]


def test_car_refusals_car_goes_on_after_a_refusal() -> None:
    """After the refusal the car keeps its rhythm: a few codes call, 1,000 km call."""
    car, link, _warnings = _services(opted_in=False)
    car.check(fault_codes=MANY_CODES)
    car.check(fault_codes=["P0300"])
    car.drive(1_000)
    assert [(unpack_call(p).reason, unpack_call(p).odometer_km) for _t, p in link.sent] == [
        ("service_need", 10_000.0), ("distance_1000km", 11_000.0)]


def test_car_refusals_scenario_fault_step_warns_and_the_next_steps_run() -> None:
    """A parsed scenario's fault step with thousands of codes is a warning, not a crash;
    the drive after it still brings its distance call."""
    codes = ", ".join(MANY_CODES)
    plan = parse(f"""
name: oversize
start: 2026-03-10T08:00
vehicles:
  - {{id: big, vin: {VIN}, position: {{lat: 51.2194, lon: 4.4025}},
     activation_country: BE, odometer_km: 10000}}
events:
  - {{at: 0.1s, vehicle: big, fault: {{codes: [{codes}]}}}}
  - {{at: 0.2s, vehicle: big, drive: {{km: 1000}}}}
""")
    link, notes, warnings = RecordingLink(), list[str](), list[str]()
    car = Car(car_config(plan.vehicles[0], plan), link=link, notify=notes.append,
              warn=warnings.append, clock=lambda: 1_773_129_600.0)
    for event in plan.events:
        assert isinstance(event, FaultEvent | DriveEvent)
        perform(event, car)
    (warning,) = warnings
    assert TELESERVICE_RULE in warning
    kinds = [parse_topic(t).kind for t, _p in link.sent]
    assert kinds == ["teleservice_call"]
    assert unpack_call(link.sent[0][1]).reason == "distance_1000km"


async def test_car_refusals_backend_answer_is_kept_and_said() -> None:
    """What the backend says it refused reaches the car's log with the field and rule."""
    plan = parse(f"""
name: told
start: 2026-03-10T08:00
vehicles:
  - {{id: told, vin: {VIN}, position: {{lat: 51.2194, lon: 4.4025}},
     activation_country: BE}}
events: []
""")
    link, notes = RecordingLink(), list[str]()
    car = Car(car_config(plan.vehicles[0], plan), link=link, notify=notes.append,
              warn=lambda _m: None)
    await car.start()
    rejection = Rejection(topic=ecall_topic(VIN, "legal"), message_id="2", incident="i-1",
                          field="qos", rule=SAFETY_QOS_RULE, sent_ns=1)
    assert link.handler is not None
    link.handler(rejected_topic(VIN), pack_rejection(rejection))
    assert car.rejections == [rejection]
    assert notes[-1] == (f"told: backend refused {ecall_topic(VIN, 'legal')} #2: qos breaks "
                         f"{SAFETY_QOS_RULE}")
