"""A load car sends the emulator's bytes and measures from the scheduled moment."""

from __future__ import annotations

from collections.abc import Callable

from loadtest import histograms
from loadtest.fleet_car import FleetCar
from loadtest.ota_wave import campaign_body
from loadtest.profile import parse
from loadtest.recorder import Recorder
from loadtest.schedule import CarProfile, Planned
from protocols.envelope import EcallAck, EcallMessage, pack, unpack
from protocols.msd.codec import decode_msd
from protocols.ota import OtaOffer, pack_ota_offer, unpack_ota_event
from protocols.topics import ecall_ack_topic, ota_offer_topic

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


WAVE = parse("name: w\nvehicles: 10\nduration: 30s\nramp: 2s\n"
             "ota: {at: 5s, download_s: 2s, install_s: 1s}\n")


def test_fleet_car_answers_an_ota_offer_with_the_machines_events_to_done() -> None:
    rig = Rig()
    car = FleetCar(WAVE, CAR, send=lambda t, p, s: rig.sent.append((t, p, s)),
                   call_later=lambda d, fn: rig.timers.append((d, fn)),
                   recorder=rig.recorder, clock=lambda: 1.7e9, real_ns=lambda: rig.now_ns)
    body = campaign_body(WAVE, rig.now_ns)
    assert CAR.vin not in body["target"]["vins"]  # seed 1's fleet; CAR is seed 0's
    scheduled = rig.now_ns
    car.act(Planned(5.0, "ota_offer"), scheduled)
    rig.now_ns += 30_000_000  # the offer arrives 30 ms after the campaign was due
    offer = OtaOffer(campaign_id=body["campaign_id"], version="23.03", size_bytes=2 * 10**9,
                     critical=False, release_notes="", sent_ns=rig.now_ns)
    car.on_downlink(ota_offer_topic(CAR.vin), pack_ota_offer(offer))
    while rig.timers:  # the transfer's tenths, then the installer
        delay, fire = rig.timers.pop(0)
        rig.now_ns += int(delay * 1e9)
        fire()
    events = [unpack_ota_event(p) for t, p, _ in rig.sent]
    assert {t for t, _, _ in rig.sent} == {f"tcu/v1/{CAR.vin}/ota/event"}
    states = [e.state for e in events]
    assert states[0] == "notified" and states[-1] == "done"
    assert states.count("downloading") >= 10 and "installing" in states
    assert events[-1].running_version == "23.03"
    figures = rig.recorder.take()
    assert figures["counters"]["ota_expected"] == figures["counters"]["ota_offered"] == 1
    offer_ms = histograms.decode(figures["histograms"]["ota_offer"]).get_max_value() / 1000
    assert 29.9 <= offer_ms <= 30.1
    download_ms = histograms.decode(figures["histograms"]["ota_download"]).get_max_value()
    assert 1_990_000 <= download_ms <= 2_010_000  # ten tenths of 2 s, in µs


def test_fleet_car_ota_offer_before_the_car_awaits_it_is_timed_as_it_came() -> None:
    """A loaded process may run the car's "campaign due" timer after the offer arrived."""
    rig = Rig()
    car = FleetCar(WAVE, CAR, send=lambda t, p, s: rig.sent.append((t, p, s)),
                   call_later=lambda d, fn: rig.timers.append((d, fn)),
                   recorder=rig.recorder, clock=lambda: 1.7e9, real_ns=lambda: rig.now_ns)
    scheduled = rig.now_ns
    rig.now_ns += 20_000_000
    offer = OtaOffer(campaign_id="c1", version="23.03", size_bytes=2 * 10**9,
                     critical=False, release_notes="", sent_ns=rig.now_ns)
    car.on_downlink(ota_offer_topic(CAR.vin), pack_ota_offer(offer))
    rig.now_ns += 50_000_000  # the timer fires 50 ms after the offer
    car.act(Planned(5.0, "ota_offer"), scheduled)
    figures = rig.recorder.take()
    assert figures["counters"]["ota_expected"] == figures["counters"]["ota_offered"] == 1
    offer_ms = histograms.decode(figures["histograms"]["ota_offer"]).get_max_value() / 1000
    assert 19.9 <= offer_ms <= 20.1
