"""A load car sends the emulator's bytes and measures from the scheduled moment."""

from __future__ import annotations

from collections.abc import Callable

from loadtest.fleet_car import FleetCar
from loadtest.profile import parse
from loadtest.recorder import Recorder
from loadtest.schedule import CarProfile, Planned
from protocols.envelope import EcallAck, EcallMessage, pack, unpack
from protocols.msd.codec import decode_msd
from protocols.topics import ecall_ack_topic

PROFILE = parse("name: t\nvehicles: 10\nduration: 10s\n")
CAR = CarProfile(index=3, vin="WMW5L000000000003", lat=48.1, lon=11.6, intelligent=True,
                 smart_maintenance=False, electric=False, odometer_km=100.0)


class Rig:
    def __init__(self) -> None:
        self.now_ns = 1_000_000_000_000
        self.sent: list[tuple[str, bytes, int]] = []
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.recorder = Recorder(source="t", now_ns=lambda: self.now_ns)
        self.car = FleetCar(PROFILE, CAR, send=lambda t, p, s: self.sent.append((t, p, s)),
                            call_later=lambda d, fn: self.timers.append((d, fn)),
                            recorder=self.recorder, clock=lambda: 1.7e9,
                            real_ns=lambda: self.now_ns)

    def envelope(self, i: int) -> EcallMessage:
        message = unpack(self.sent[i][1])
        assert isinstance(message, EcallMessage)
        return message


def test_fleet_car_ecall_is_a_real_msd_and_its_ack_is_timed_from_the_schedule() -> None:
    rig = Rig()
    scheduled = rig.now_ns - 40_000_000  # the car got to it 40 ms late
    rig.car.act(Planned(1.0, "ecall"), scheduled)
    topic, _payload, sent_for = rig.sent[0]
    envelope = rig.envelope(0)
    assert topic == f"tcu/v1/{CAR.vin}/ecall/intelligent"
    assert sent_for == scheduled
    msd = decode_msd(envelope.msd)
    assert msd.vin == CAR.vin and msd.message_identifier == 1
    rig.now_ns += 10_000_000
    ack = EcallAck(envelope.incident, 1, "callcentre", rig.now_ns)
    rig.car.on_downlink(ecall_ack_topic(CAR.vin), pack(ack))
    figures = rig.recorder.take()
    assert figures["counters"] == {"ecall_started": 1, "ecall_sent_intelligent": 1,
                                   "ecall_acked": 1}
    assert "ecall_ack" in figures["histograms"]
    assert rig.car.machine.phase == "connected"


def test_fleet_car_without_an_ack_falls_back_to_legal_then_voice() -> None:
    rig = Rig()
    rig.car.act(Planned(1.0, "ecall"), rig.now_ns)
    delay, fire = rig.timers[0]
    assert delay == 5.0  # EN 16062 T6
    fire()
    assert rig.sent[1][0] == f"tcu/v1/{CAR.vin}/ecall/legal"
    assert rig.envelope(1).msg_id == 2
    rig.timers[1][1]()
    assert rig.sent[2][0] == "psap/v1/DE/voice"
    counters = rig.recorder.take()["counters"]
    assert counters["ecall_voice"] == 1 and "ecall_acked" not in counters
    assert rig.recorder.open_waits("ecall_ack") == 1  # still unacknowledged: a lost eCall
