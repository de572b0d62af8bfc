"""One load car's decisions and bytes, with no network and no event loop of its own.

The bytes are the emulator's: the MSD from ``vehicle_sim.vehicle.build_msd`` encoded by
``protocols.msd``, the eCall chain of ``vehicle_sim.ecall_machine`` (acknowledgement
timer, fallback to Legal eCall, then the voice call), Teleservice and Smart Maintenance
on their rhythm and assistance calls through ``vehicle_sim.car_services.CarServices``,
HV warn calls from ``vehicle_sim.hv_warn``. Whoever runs the car (``loadtest.car_user``
under Locust, a test with a list) hands in how to publish, how to arm a timer and the
car's virtual clock; the car tells the ``Recorder`` what it waits for.
"""

from __future__ import annotations

import functools
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from loadtest.fleet_ota import FleetOta
from loadtest.profile import Profile
from loadtest.recorder import Recorder
from loadtest.schedule import CLEAR_AFTER_S, CarProfile, Planned, drive_km, point_in
from protocols.envelope import EcallAck, EcallMessage, MsdRequest, VoiceCall, pack, unpack
from protocols.errors import ProtocolError
from protocols.hv import HvWarnCall, pack_hv_call
from protocols.msd.codec import encode_msd
from protocols.msd.model import Propulsion
from protocols.ota import unpack_ota_offer
from protocols.topics import (
    ParsedTopic,
    ecall_topic,
    hv_warn_topic,
    parse_topic,
    teleservice_call_topic,
    voice_topic,
)
from vehicle_sim.battery import BatteryMode, BatteryState, ThermalEvent
from vehicle_sim.car_services import CarServices
from vehicle_sim.ecall_machine import (
    Ack,
    AckTimeout,
    Clear,
    EcallContext,
    EcallState,
    Event,
    SendMsd,
    StartTimer,
    Trigger,
    UpdateRequest,
    step,
)
from vehicle_sim.ecall_machine import VoiceCall as PlaceVoiceCall
from vehicle_sim.hv_warn import BodySnapshot, runaway_until_alarm, warn_call
from vehicle_sim.vehicle import VehicleSpec, VehicleState, build_msd

log = logging.getLogger(__name__)

Send = Callable[[str, bytes, int], None]  # topic, payload, scheduled wall time (ns)
CallLater = Callable[[float, Callable[[], None]], None]
_IN_ECALL_COUNTRIES = frozenset({"AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES",
                                 "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
                                 "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"})


@functools.lru_cache(maxsize=8)
def _runaway(powertrain: str, mode: BatteryMode,
             ambient_c: float) -> tuple[ThermalEvent, BatteryState]:
    """The thermal model played to its alarm: the same for every car of a kind, so once."""
    return runaway_until_alarm(powertrain, mode=mode, ambient_c=ambient_c)


class FleetCar:
    """A load car: its vehicle, its eCall machine, its services; I/O handed in."""

    def __init__(self, profile: Profile, car: CarProfile, *, send: Send, call_later: CallLater,
                 recorder: Recorder, clock: Callable[[], float],
                 real_ns: Callable[[], int] = time.time_ns) -> None:
        """``clock`` is the car's virtual time (epoch seconds, the profile's compressed
        day); ``real_ns`` is wall time, which every latency is measured in."""
        self.profile = profile
        self.car = car
        self.vin = car.vin
        self._send = send
        self._call_later = call_later
        self._recorder = recorder
        self._clock = clock
        self._real_ns = real_ns
        self._scheduled_ns = 0  # the planned moment of what the car is doing now
        self._ecall_due: dict[str, int] = {}  # incident -> its planned moment, until acked
        country = profile.mix.country
        self.spec = VehicleSpec(
            vin=car.vin, activation_country=country, intelligent_bought=car.intelligent,
            propulsion=Propulsion(gasoline_tank_present=not car.electric,
                                  electric_energy_storage=car.electric))
        self.vehicle = VehicleState.start(lat=car.lat, lon=car.lon, heading_deg=90.0,
                                          speed_kmh=50.0, occupants=1, now=clock())
        self.context = EcallContext(
            intelligent_bought=car.intelligent, intelligent_expires=None,
            activation_country=country, current_country=country,
            in_ecall_country=country in _IN_ECALL_COUNTRIES)
        self.machine = EcallState()
        self.services = CarServices(
            vin=car.vin, propulsion=("electric",) if car.electric else ("gasoline",),
            odometer_km=car.odometer_km, os_version=9, smart_opt_in=car.smart_maintenance,
            clock=clock, position=lambda: (self.vehicle.lat, self.vehicle.lon),
            publish=self._publish_service, notify=_quiet, warn=self._refused,
            label=car.vin)
        wave = profile.ota
        self.ota = None if wave is None else FleetOta(
            car.vin, download_s=wave.download_s, install_s=wave.install_s,
            send=lambda topic, payload: self._send(topic, payload, self._real_ns()),
            call_later=call_later, recorder=recorder, clock=clock, real_ns=real_ns)

    # -- what the timetable says --------------------------------------------------------
    def act(self, planned: Planned, scheduled_ns: int) -> None:
        """Do ``planned`` (a transport action, disconnect/reconnect, is not the car's)."""
        self._scheduled_ns = scheduled_ns
        if planned.action == "ecall":
            self.crash()
        elif planned.action == "burst_ecall":
            assert self.profile.burst is not None
            lat, lon = point_in(self.profile.burst.area, _rng_for(self.vin))
            self.vehicle = VehicleState.start(lat=lat, lon=lon, heading_deg=90.0,
                                              speed_kmh=0.0, occupants=2, now=self._clock())
            self.crash()
        elif planned.action == "hv_warn":
            self.hv_warn()
        elif planned.action == "assistance":
            self.services.assistance("breakdown", channel="car", confirmed=True,
                                     drivable=False, fault_codes=["P0A80"])
        elif planned.action == "drive":
            # The odometer moves on; Teleservice calls fall due at their kilometre (TS-R1).
            self.services.drive_to(self.services.odometer_km + drive_km(self.profile))
        elif planned.action == "trip_end":
            self.services.check(trip_ended=True)
        elif planned.action == "ota_offer" and self.ota is not None:
            self.ota.expect_offer(scheduled_ns)

    def crash(self) -> None:
        incident = f"{self.vin[-6:]}-{uuid.uuid4().hex[:12]}"
        if self.machine.phase != "idle":
            self._recorder.count("ecall_skipped_busy")
            return
        self._recorder.count("ecall_started")
        self._recorder.expect("ecall_ack", (self.vin, incident), self._scheduled_ns)
        self._ecall_due[incident] = self._scheduled_ns
        self._apply(Trigger(automatic=True, incident=incident))

    def hv_warn(self) -> None:
        event, battery = _runaway("BEV", "parked", 20.0)
        body = BodySnapshot(lat=self.vehicle.lat, lon=self.vehicle.lon, plug_state="unplugged")
        call: HvWarnCall = warn_call(replace(event, at=self._clock()), battery, body,
                                     vin=self.vin, sent_ns=self._real_ns())
        call = replace(call, incident=f"{self.vin[-6:]}-hv-{uuid.uuid4().hex[:12]}")
        self._recorder.count("hv_warn_sent")
        self._recorder.expect("hv_ack", (self.vin, call.incident), self._scheduled_ns)
        self._send(hv_warn_topic(self.vin), pack_hv_call(call), self._scheduled_ns)

    # -- the eCall machine --------------------------------------------------------------
    def _apply(self, event: Event) -> None:
        now = self._clock()
        self.machine, effects = step(self.machine, event, now, self.context)
        for effect in effects:
            if isinstance(effect, SendMsd):
                self._send_msd(effect)
            elif isinstance(effect, StartTimer):
                timeout = AckTimeout(incident=effect.incident, attempt_token=effect.token)
                # A network wait: the deadline's distance in real seconds (as ``Car`` does).
                self._call_later(max(0.0, effect.deadline - now),
                                 functools.partial(self._timed_out, timeout))
            elif isinstance(effect, PlaceVoiceCall):
                self._recorder.count("ecall_voice")
                self._send(voice_topic(effect.country),
                           pack(VoiceCall(effect.incident, self._real_ns())), self._real_ns())

    def _timed_out(self, timeout: AckTimeout) -> None:
        before = self.machine.token
        self._scheduled_ns = self._real_ns()
        self._apply(timeout)
        if self.machine.token != before or self.machine.phase == "voice":
            self._recorder.count("ecall_ack_timeout")

    def _send_msd(self, effect: SendMsd) -> None:
        msd = build_msd(self.spec, self.vehicle, message_identifier=effect.msg_id,
                        automatic=self.machine.automatic, timestamp=self.machine.timestamp)
        envelope = EcallMessage(effect.variant, self.vin, effect.incident, effect.msg_id,
                                encode_msd(msd), self._real_ns(), self.context.current_country)
        self._recorder.count(f"ecall_sent_{effect.variant}")
        self._send(ecall_topic(self.vin, effect.variant), pack(envelope), self._scheduled_ns)

    # -- the downlink -------------------------------------------------------------------
    def on_downlink(self, topic: str, payload: bytes) -> None:
        try:
            parsed = parse_topic(topic)
            if parsed.kind == "workshop_map":
                self._recorder.done("teleservice_map", self.vin)
                return
            if parsed.kind == "ota_offer":
                if self.ota is not None:
                    self.ota.offer(unpack_ota_offer(payload))
                return
            if parsed.kind not in ("ecall_ack", "hv_ack", "msd_request"):
                return
            message = unpack(payload)
        except ProtocolError as exc:
            self._recorder.count("downlink_unreadable")
            log.debug("%s: unreadable downlink on %s: %s", self.vin, topic, exc)
            return
        self._on_message(parsed, message)

    def _on_message(self, parsed: ParsedTopic, message: object) -> None:
        if parsed.kind == "hv_ack" and isinstance(message, EcallAck):
            self._recorder.done("hv_ack", (self.vin, message.incident))
        elif parsed.kind == "ecall_ack" and isinstance(message, EcallAck):
            if self._recorder.done("ecall_ack", (self.vin, message.incident)) is not None:
                self._recorder.count("ecall_acked")
            due = self._ecall_due.pop(message.incident, None)
            if due is not None:
                self._recorder.note_desk(message.route, message.incident, due)
            was = self.machine.phase
            self._apply(Ack(incident=message.incident, msg_id=message.msg_id,
                            route=message.route))
            if was == "awaiting_ack" and self.machine.phase == "connected":
                self._call_later(CLEAR_AFTER_S, functools.partial(self._clear, message.incident))
        elif parsed.kind == "msd_request" and isinstance(message, MsdRequest):
            self._scheduled_ns = self._real_ns()
            self._apply(UpdateRequest(incident=message.incident))

    def _clear(self, incident: str) -> None:
        self._apply(Clear(incident))

    # -- services -----------------------------------------------------------------------
    def _publish_service(self, topic: str, payload: bytes) -> None:
        if topic == teleservice_call_topic(self.vin):
            self._recorder.expect("teleservice_map", self.vin, self._scheduled_ns)
        self._recorder.count("service_" + topic.rsplit("/", 1)[-1])
        self._send(topic, payload, self._scheduled_ns)

    def _refused(self, note: str) -> None:
        self._recorder.count("service_refused_by_car")
        log.debug("%s", note)


def _quiet(_note: str) -> None:
    """A load car has thousands of siblings: what it did is counted, not narrated."""


def _rng_for(vin: str) -> random.Random:
    return random.Random(vin)

