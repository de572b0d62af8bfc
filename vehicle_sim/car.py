"""One emulated car on the wire: the pure eCall machine driven by MQTT and timers.

The machine decides; this actor performs its effects (build and publish the MSD, arm
the acknowledgement timer, place the voice call) and feeds it what arrives on the
downlink. Time comes in from outside: the injected clock for the machine, its timer
deadlines and the MSD's timestamp (in a scenario, its virtual time), wall time only
for the latency stamps. Fault injection stands for the radio: an "unreachable"
variant is published nowhere, so the car's own timer, not the scenario, drives the
fallback; a late or lost acknowledgement (the machine's ack faults) lets the MSD reach the
backend while the car still falls back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from protocols.envelope import EcallAck, EcallMessage, MsdRequest, VoiceCall, pack, unpack
from protocols.errors import ProtocolError
from protocols.hv import HvWarnCall, pack_hv_call
from protocols.msd.codec import encode_msd
from protocols.ota import unpack_ota_command, unpack_ota_offer
from protocols.rejection import Rejection, unpack_rejection
from protocols.teleservice import unpack_workshop_map
from protocols.topics import (
    ecall_topic,
    hv_warn_topic,
    parse_topic,
    vehicle_commands_filter,
    voice_topic,
)
from vehicle_sim.battery import BatteryMode
from vehicle_sim.car_config import CarConfig, ConsentService
from vehicle_sim.car_ota import CarOta
from vehicle_sim.car_services import CarServices
from vehicle_sim.crash import CrashPulse, Occupancy
from vehicle_sim.ecall_machine import (
    Ack,
    AckReceived,
    AckTimeout,
    EcallState,
    Event,
    Log,
    SendMsd,
    StartTimer,
    Trigger,
    UpdateRequest,
    step,
)
from vehicle_sim.ecall_machine import VoiceCall as PlaceVoiceCall
from vehicle_sim.hv_warn import BodySnapshot, runaway_until_alarm, warn_call
from vehicle_sim.injection import Injection
from vehicle_sim.injury import intelligent_extras
from vehicle_sim.mqtt_transport import Link, Notify
from vehicle_sim.trace import IncidentTrace, Transmission
from vehicle_sim.vehicle import VehicleState, build_msd

log = logging.getLogger(__name__)
HV_ATTEMPTS = 3  # a warn call is resent until acknowledged, up to this many times


class Car:
    """A TCU with its MQTT session, its vehicle model and its eCall machine."""

    def __init__(self, config: CarConfig, *, link: Link, notify: Notify, warn: Notify,
                 clock: Callable[[], float] = time.time,
                 real_ns: Callable[[], int] = time.time_ns) -> None:
        """``clock`` is the car's time (epoch seconds; a scenario's virtual clock): the
        eCall machine, its timer deadlines and every record's timestamp read it.
        ``real_ns`` is wall time, read only to stamp ``sent_ns`` and acknowledgements,
        because latency is a real-time measure whatever the scenario's clock does.
        ``notify`` hears what the car did, ``warn`` what it refused to send (a budget)."""
        self.config = config
        self.label = config.label
        self.spec = config.spec
        self.vehicle = VehicleState.start(
            lat=config.start.lat, lon=config.start.lon, heading_deg=config.start.heading_deg,
            speed_kmh=config.start.speed_kmh, occupants=config.start.occupants, now=clock())
        self.context = config.ecall
        self.machine = EcallState()
        self.trace: IncidentTrace | None = None
        self.sent_msds: list[bytes] = []  # every MSD this car encoded, for storage checks
        self.rejections: list[Rejection] = []  # what the backend said it refused, in order
        self.settled = asyncio.Event()
        self._notify = notify
        self._link = link
        self._extras_source: tuple[CrashPulse, Occupancy] | None = None
        self._automatic = False
        self._timers: list[asyncio.TimerHandle] = []
        self._clock = clock
        self._real_ns = real_ns
        self.services = CarServices(
            vin=self.spec.vin, propulsion=config.propulsion, odometer_km=config.odometer_km,
            os_version=config.os_version, smart_opt_in=config.smart_maintenance, clock=clock,
            position=lambda: (self.vehicle.lat, self.vehicle.lon),
            publish=lambda topic, payload: self._link.publish(topic, payload),
            notify=notify, warn=warn, label=self.label)
        self.ota = CarOta(
            vin=self.spec.vin, os_version=config.os_version, clock=clock, notify=notify,
            settings=config.ota, publish=lambda topic, payload: self._link.publish(topic, payload),
            request_assistance=self._update_failed, label=self.label, real_ns=real_ns)

    def _update_failed(self) -> None:
        """An aborted upgrade raises a roadside assistance call (MINI Connected §15, OTA-R5)."""
        self.services.assistance("failed_update", channel="car", confirmed=True,
                                 drivable=self.ota.phase == "rolled_back",
                                 fault_codes=["RSU-ABORTED"])

    async def start(self) -> None:
        # A real TCU has its MSD encoder ready before the crash; compile it now, not then.
        encode_msd(build_msd(self.spec, self.vehicle, message_identifier=1, automatic=True,
                             timestamp=0))
        await self._link.open(downlink=vehicle_commands_filter(self.spec.vin),
                              handler=self._on_downlink)

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.ota.stop()
        await self._link.close()

    # -- triggers --------------------------------------------------------------------
    def crash(self, pulse: CrashPulse, belted: Sequence[bool] | None = None) -> None:
        """The airbag controller fires; ``belted`` per occupied seat, default all belted."""
        belted = list(belted) if belted is not None else [True] * self.vehicle.occupants
        self._extras_source = (pulse, Occupancy.from_belts(belted, seats=self.spec.seats))
        self._trigger(automatic=True, kind="crash")

    def sos(self) -> None:
        self._trigger(automatic=False, kind="sos")

    def _trigger(self, *, automatic: bool, kind: str) -> None:
        incident = f"{self.spec.vin[-6:]}-{uuid.uuid4().hex[:12]}"
        self._automatic = automatic
        self.trace = IncidentTrace(self.label, self.spec.vin, incident, kind)
        self.ota.ecall_started()  # no update and no remote intervention during an eCall
        self._apply(Trigger(automatic=automatic, incident=incident))

    def end_ecall(self) -> None:
        """The emergency call is over (the PSAP hung up): postponed updates may go on."""
        self.ota.ecall_cleared()

    def thermal_runaway(self, ambient_c: float) -> None:
        """A cell fault in the HV battery: the car sends the warn call at once (HV-R2)."""
        mode: BatteryMode = ("charging" if self.config.plugged
                             else "locked" if self.config.locked else "parked")
        event, battery = runaway_until_alarm(self.config.powertrain, mode=mode,
                                             ambient_c=ambient_c)
        body = BodySnapshot(lat=self.vehicle.lat, lon=self.vehicle.lon,
                            plug_state="plugged" if self.config.plugged else "unplugged")
        now = self._clock()  # the scenario's (virtual) time, like every other record's
        call = warn_call(replace(event, at=now), battery, body, vin=self.spec.vin, sent_ns=0)
        call = replace(call, incident=f"{self.spec.vin[-6:]}-hv-{uuid.uuid4().hex[:12]}")
        self.trace = IncidentTrace(self.label, self.spec.vin, call.incident, "thermal")
        self._notify(f"{self.label}: battery alarm ({event.kind}, {event.cell_temp_c:.0f} °C "
                     f"after {event.at / 60:.0f} min of runaway, {mode})")
        self._send_hv_call(call, attempt=1)

    def _send_hv_call(self, call: HvWarnCall, *, attempt: int) -> None:
        """Publish the warn call; resend it if no acknowledgement comes in time."""
        assert self.trace is not None
        if any(t.acked_ns is not None for t in self.trace.transmissions):
            return
        sent = replace(call, sent_ns=self._real_ns())
        self.trace.transmissions.append(Transmission("hv_warn", attempt, sent.sent_ns))
        self._link.publish(hv_warn_topic(self.spec.vin), pack_hv_call(sent))
        self._notify(f"{self.label}: HV warn call sent (attempt {attempt})")
        if attempt < HV_ATTEMPTS:
            loop = asyncio.get_running_loop()
            resend = partial(self._send_hv_call, call, attempt=attempt + 1)
            self._timers.append(loop.call_later(self.context.ack_timeout_s, resend))

    def switch(self, service: ConsentService, *, on: bool) -> None:
        """The customer switches a service on or off; the car honours it from now on.

        Intelligent eCall switched off is, for the choice of variant, as if not bought:
        the car places the Legal eCall, which cannot be switched off (ECALL-R5)."""
        if service == "intelligent_ecall":
            bought = on and self.config.ecall.intelligent_bought
            self.context = replace(self.context, intelligent_bought=bought)
        else:
            self.services.switch(service, on=on)
        self._notify(f"{self.label}: {service} switched {'on' if on else 'off'}")

    def inject(self, message: Injection) -> None:
        """Publish ``message`` as it is on the car's own connection (a scenario's test of
        the backend's refusals: no real TCU sends one)."""
        self._link.publish(message.topic, message.payload, qos=message.qos)
        self._notify(f"{self.label}: injected {len(message.payload)} bytes on {message.topic}")

    def expect_update(self) -> None:
        """The operator has asked for an update: the car is not settled until it answers."""
        if self.trace is not None:
            self.trace.update_requests += 1
            self.settled.clear()

    # -- machine -------------------------------------------------------------------
    def _apply(self, event: Event) -> None:
        now = self._clock()
        self.machine, effects = step(self.machine, event, now, self.context)
        for effect in effects:
            if isinstance(effect, SendMsd):
                self._send_msd(effect)
            elif isinstance(effect, StartTimer):
                # Waiting for an acknowledgement is a network wait: the timer runs the
                # deadline's distance from now in real seconds, so a scenario's jump of
                # days does not fire it early and a frozen scenario clock does not hold it.
                delay = max(0.0, effect.deadline - now)
                loop = asyncio.get_running_loop()
                timeout = AckTimeout(incident=effect.incident, attempt_token=effect.token)
                self._timers.append(loop.call_later(delay, self._apply, timeout))
            elif isinstance(effect, PlaceVoiceCall):
                self._voice_call(effect)
            elif isinstance(effect, AckReceived):
                self._record_ack(effect.incident, effect.msg_id, effect.route)
            elif isinstance(effect, Log):
                log.info("%s: %s", self.label, effect.message)
        self._check_settled()

    def _send_msd(self, effect: SendMsd) -> None:
        assert self.trace is not None
        msd = build_msd(self.spec, self.vehicle, message_identifier=effect.msg_id,
                        automatic=self._automatic, timestamp=int(self.machine.timestamp))
        extras = None
        if effect.variant == "intelligent" and self._extras_source is not None:
            extras = intelligent_extras(*self._extras_source)
        encoded = encode_msd(msd)
        self.sent_msds.append(encoded)
        sent_ns = self._real_ns()
        envelope = EcallMessage(effect.variant, self.spec.vin, effect.incident, effect.msg_id,
                                encoded, sent_ns, self.context.current_country, extras)
        self.trace.transmissions.append(Transmission(effect.variant, effect.msg_id, sent_ns))
        self.trace.timestamps.append(msd.timestamp)
        unreachable = self.context.unreachable(effect.variant)
        if not unreachable:
            self._link.publish(ecall_topic(self.spec.vin, effect.variant), pack(envelope))
        self._notify(f"{self.label}: {effect.variant} eCall MSD #{effect.msg_id} "
                     f"{'lost (no network path)' if unreachable else 'sent'}")

    def _voice_call(self, effect: PlaceVoiceCall) -> None:
        assert self.trace is not None
        self.trace.voice_country = effect.country
        self._link.publish(voice_topic(effect.country), pack(VoiceCall(effect.incident,
                                                                       self._real_ns())))
        self._notify(f"{self.label}: PSAP voice call placed in {effect.country} (no data)")

    def _check_settled(self) -> None:
        if self.trace is not None and self.trace.settled():
            self.settled.set()

    # -- downlink ------------------------------------------------------------------
    def _on_downlink(self, topic: str, payload: bytes) -> None:
        try:
            kind = parse_topic(topic).kind
            if kind == "ota_offer":
                self.ota.offer(unpack_ota_offer(payload))
                return
            if kind == "ota_command":
                self.ota.command(unpack_ota_command(payload))
                return
            if kind == "rejected":
                self._rejected(unpack_rejection(payload))
                return
            if kind == "workshop_map":
                update = unpack_workshop_map(payload)
                self._notify(f"{self.label}: workshop map v{update.version} received "
                             f"({update.partner_count} partners, {len(payload)} bytes)")
                return
            message = unpack(payload)
        except ProtocolError as exc:
            log.warning("%s: ignored downlink: %s", self.label, exc)
            return
        if kind == "hv_ack" and isinstance(message, EcallAck):
            self._record_ack(message.incident, message.msg_id, message.route,
                             any_attempt=True)
            self._check_settled()
        elif kind == "ecall_ack" and isinstance(message, EcallAck):
            # Recorded when the machine takes it in (AckReceived): an ack fault may hold
            # it back or lose it.
            self._apply(Ack(incident=message.incident, msg_id=message.msg_id, route=message.route))
        elif kind == "msd_request" and isinstance(message, MsdRequest):
            self._notify(f"{self.label}: MSD update requested by {message.requested_by}")
            self._apply(UpdateRequest(incident=message.incident))

    def _rejected(self, rejection: Rejection) -> None:
        """The backend refused one of this car's messages and said why: kept, and said
        in the run's log (a real TCU would stop resending what cannot pass)."""
        self.rejections.append(rejection)
        which = f" #{rejection.message_id}" if rejection.message_id else ""
        self._notify(f"{self.label}: backend refused {rejection.topic}{which}: "
                     f"{rejection.field} breaks {rejection.rule}")

    def _record_ack(self, incident: str, msg_id: int, route: str, *,
                    any_attempt: bool = False) -> None:
        if self.trace is None or incident != self.trace.incident:
            return
        for sent in self.trace.transmissions:
            if (any_attempt or sent.msg_id == msg_id) and sent.acked_ns is None:
                sent.acked_ns = self._real_ns()
                sent.route = route
                self._notify(f"{self.label}: acknowledged #{msg_id} -> {route} "
                             f"in {sent.ack_ms:.2f} ms")
