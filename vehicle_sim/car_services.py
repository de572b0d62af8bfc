"""A car's non-emergency calls: Teleservice, Smart Maintenance and assistance.

The decisions are the pure functions of ``vehicle_sim.teleservice`` and
``vehicle_sim.assistance``; this class keeps the car's odometer, its Teleservice memory
and the scenario's (virtual) clock, and publishes what those functions decide.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from protocols.assistance import AssistanceKind, Channel, pack_assistance_call
from protocols.errors import EnvelopeError
from protocols.teleservice import (
    TELESERVICE_RULE,
    CallReason,
    ServiceItem,
    SmartMaintenanceTransfer,
    TeleserviceCall,
    packed,
)
from protocols.topics import (
    Publish,
    assistance_topic,
    smart_maintenance_topic,
    teleservice_call_topic,
)
from vehicle_sim.assistance import CarSnapshot, raise_call
from vehicle_sim.mqtt_transport import Notify
from vehicle_sim.teleservice import (
    CALL_INTERVAL_KM,
    TeleserviceState,
    after_call,
    after_smart,
    build_call,
    build_smart_transfer,
    call_reason,
    needs_of,
    propulsion_of,
    smart_due,
)

_Uplink = TypeVar("_Uplink", TeleserviceCall, SmartMaintenanceTransfer)


class CarServices:
    """Teleservice rhythm, Smart Maintenance and assistance calls of one car."""

    def __init__(self, *, vin: str, propulsion: Sequence[str], odometer_km: float,
                 os_version: int, smart_opt_in: bool, clock: Callable[[], float],
                 position: Callable[[], tuple[float, float]], publish: Publish,
                 notify: Notify, warn: Notify, label: str) -> None:
        """``notify`` hears what the car did; ``warn`` what it refused to do."""
        self.vin = vin
        self.odometer_km = odometer_km
        self.propulsion = propulsion_of(propulsion)
        self.os_version = os_version
        self.smart_opt_in = smart_opt_in
        self.transfer_on = True  # TS-R6: Teleservice is on by default
        self._clock = clock
        self._position = position
        self._publish = publish
        self._notify = notify
        self._warn = warn
        self._label = label
        self.state = TeleserviceState(last_call_at=clock(), last_call_odometer_km=odometer_km)
        self.calls: list[CallReason] = []
        self.call_ids: list[str] = []
        self.assistance_requests: list[str] = []
        self.refusals: list[str] = []
        # What the car's own diagnosis shows now, reported at every check until a
        # workshop clears it: CBS items due (TS-R7) and stored fault codes.
        self.cbs_items: tuple[ServiceItem, ...] = ()
        self.standing_faults: tuple[str, ...] = ()

    # -- Teleservice and Smart Maintenance ---------------------------------------------
    def switch(self, service: Literal["teleservice", "smart_maintenance"], *, on: bool) -> None:
        """The customer switches Teleservice data transfer (the data-protection menu,
        TS-R6) or Smart Maintenance (its consent box, TS-R3); it holds from this moment.

        With the transfer off the car sends neither calls nor Smart Maintenance
        transfers, both being Teleservice data (§16), and remembers no call: switched
        on again, whatever is due by then goes at the next check."""
        if service == "teleservice":
            self.transfer_on = on
        else:
            self.smart_opt_in = on

    def check(self, *, fault_codes: Sequence[str] = (), trip_ended: bool = False) -> None:
        """What a TCU does after each trip, each day and each new fault."""
        if not self.transfer_on:
            return
        now = self._clock()
        trigger = smart_due(self.state, opted_in=self.smart_opt_in, os_version=self.os_version,
                            now=now, trip_ended=trip_ended)
        if trigger is not None:
            transfer = self._within_budget(
                f"Smart Maintenance transfer ({trigger})",
                lambda: build_smart_transfer(vin=self.vin, transfer_id=uuid.uuid4().hex[:12],
                                             trigger=trigger, now=now,
                                             sent_ns=time.time_ns(),
                                             odometer_km=self.odometer_km,
                                             fault_codes=fault_codes))
            if transfer is not None:
                self._publish(smart_maintenance_topic(self.vin), packed(transfer))
                self.state = after_smart(self.state, now)
                self._notify(f"{self._label}: Smart Maintenance transfer ({trigger})")
        # The need goes by the Teleservice call; a transfer after every trip carrying it
        # would open a case per trip.
        fault_codes = (*self.standing_faults, *fault_codes)
        items = self.cbs_items
        reason = call_reason(self.state, now=now, odometer_km=self.odometer_km,
                             fault_codes=fault_codes, items=items)
        if reason is None:
            return
        call = self._within_budget(
            f"Teleservice call ({reason})",
            lambda: build_call(vin=self.vin, call_id=uuid.uuid4().hex[:12], reason=reason,
                               now=now, sent_ns=time.time_ns(), odometer_km=self.odometer_km,
                               propulsion=self.propulsion, fault_codes=fault_codes,
                               items=items))
        if call is None:
            return
        self._publish(teleservice_call_topic(self.vin), packed(call))
        self.state = after_call(self.state, now, self.odometer_km,
                                needs=needs_of(fault_codes, items))
        self.calls.append(reason)
        self.call_ids.append(call.call_id)
        self._notify(f"{self._label}: Teleservice call ({reason}) at "
                     f"{self.odometer_km:.0f} km")

    def _within_budget(self, what: str, build: Callable[[], _Uplink]) -> _Uplink | None:
        """The message ``build`` makes, or None when it breaks the 50 KB per request.

        The car refuses to send what breaks a budget rather than stop (TS-R2): the
        refusal, with the rule in words, goes to ``refusals`` and to the person watching
        as a warning, and the car carries on. Nothing it remembers changes, so a refused
        call leaves the next regular call due as before. Any other broken rule is a
        fault of the emulator and still raises.
        """
        try:
            return build()
        except EnvelopeError as exc:
            if exc.rule != TELESERVICE_RULE:
                raise
            note = (f"{self._label}: {what} refused by the car, nothing sent: {exc}, "
                    f"and the rule is {exc.rule}")
            self.refusals.append(note)
            self._warn(note)
            return None

    def drive_to(self, odometer_km: float) -> None:
        """Drive on until the odometer reads ``odometer_km``, checking as it goes.

        A TCU watches the odometer while driving: each 1,000 km call falls due mid-trip
        at the kilometre it is due (TS-R1), stamped with that reading, not once at the
        end of a long trip. A call that was not placed leaves the leg where it was, so
        the watch stops there rather than trying the same kilometre again.
        """
        while True:
            due = self.state.last_call_odometer_km + CALL_INTERVAL_KM
            if not self.odometer_km < due <= odometer_km:
                break
            self.odometer_km = due
            self.check()
            if self.state.last_call_odometer_km < due:
                break
        self.odometer_km = odometer_km

    def drive(self, km: float) -> None:
        """A trip of ``km``: the calls due on the way, then the trip-end check."""
        self.drive_to(self.odometer_km + km)
        self.check(trip_ended=True)

    # -- assistance --------------------------------------------------------------------
    def assistance(self, kind: AssistanceKind, *, channel: Channel, confirmed: bool,
                   drivable: bool, fault_codes: Sequence[str]) -> str | None:
        """Raise an assistance call; without confirmation from another channel, nothing."""
        lat, lon = self._position()
        snapshot = CarSnapshot(lat=lat, lon=lon, fault_codes=tuple(fault_codes),
                               drivable=drivable, odometer_km=self.odometer_km,
                               fuel_pct=None if self.propulsion == "bev" else 40.0,
                               soc_pct=55.0 if self.propulsion != "petrol"
                               and self.propulsion != "diesel" else None)
        request_id = f"{self.vin[-6:]}-as-{uuid.uuid4().hex[:10]}"
        call = raise_call(kind, snapshot, vin=self.vin, request_id=request_id, channel=channel,
                          confirmed=confirmed, now=self._clock(), sent_ns=time.time_ns())
        if call is None:
            self._notify(f"{self._label}: {kind} request by {channel} waits for the "
                         "customer's confirmation in the car; no data sent")
            return None
        self._publish(assistance_topic(self.vin), pack_assistance_call(call))
        self.assistance_requests.append(request_id)
        self._notify(f"{self._label}: {kind} assistance call sent ({channel})")
        return request_id
