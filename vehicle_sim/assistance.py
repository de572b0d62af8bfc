"""The car's side of the Roadside and Accident Assistance Calls (MINI Connected §16e, §16f;
docs/requirements.md#as-r1 and #as-r2).

Pure helpers: ``detect_kind`` says whether the car should offer a call, and
``raise_call`` builds the ``AssistanceCall`` from a snapshot of the car.

* A detected fault (§16e "als het voertuig een storing of een fout detecteert") offers a
  breakdown call; a light accident or damage (§16f "een licht ongeval of schade") an
  accident call; an aborted Remote Software Upgrade (§15) a roadside call that shares
  vehicle, location and movement data. A manual start is always possible.
* When the request comes "via een ander kanaal (bijv. de mobiele telefoon)", the data
  is sent only "na uw bevestiging in uw voertuig" (§16e): ``raise_call`` returns None,
  meaning nothing leaves the car, until the customer has confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocols.assistance import AssistanceCall, AssistanceKind, Channel, may_send_data


@dataclass(frozen=True, slots=True, kw_only=True)
class CarSnapshot:
    """The car's status, position and movement at the moment of the call.

    ``fuel_pct`` is None on a BEV and ``soc_pct`` None on a combustion car; a PHEV
    reports both.
    """

    lat: float
    lon: float
    fault_codes: tuple[str, ...] = ()
    warning_lamps: tuple[str, ...] = ()
    drivable: bool = True
    fuel_pct: float | None = None
    soc_pct: float | None = None
    speed_kmh: float = 0.0
    heading_deg: float = 0.0
    odometer_km: float = 0.0
    extra_status: dict[str, str] = field(default_factory=dict)

    def vehicle_status(self) -> dict[str, object]:
        status: dict[str, object] = {
            "fault_codes": list(self.fault_codes),
            "warning_lamps": list(self.warning_lamps),
            "drivable": self.drivable,
        }
        if self.fuel_pct is not None:
            status["fuel_pct"] = self.fuel_pct
        if self.soc_pct is not None:
            status["soc_pct"] = self.soc_pct
        return self.extra_status | status  # the required keys cannot be overridden

    def movement(self) -> dict[str, float]:
        return {"speed_kmh": self.speed_kmh, "heading_deg": self.heading_deg,
                "odometer_km": self.odometer_km}


def detect_kind(snapshot: CarSnapshot, *, light_impact: bool = False,
                update_aborted: bool = False) -> AssistanceKind | None:
    """Which call the car offers on its own, or None when nothing calls for one.

    A light impact outranks a failed update, which outranks a plain fault: the accident
    desk can organise a tow as well (§16f), and a failed update is the more specific
    cause of a fault it leaves behind.
    """
    if light_impact:
        return "light_accident"
    if update_aborted:
        return "failed_update"
    if snapshot.fault_codes or not snapshot.drivable:
        return "breakdown"
    return None


def raise_call(kind: AssistanceKind, snapshot: CarSnapshot, *, vin: str, request_id: str,
               channel: Channel, confirmed: bool, now: float,
               sent_ns: int) -> AssistanceCall | None:
    """The call to send, or None while a request from app/phone awaits confirmation."""
    call = AssistanceCall(
        vin=vin, request_id=request_id, kind=kind, channel=channel,
        customer_confirmed=confirmed, lat=snapshot.lat, lon=snapshot.lon,
        vehicle_status=snapshot.vehicle_status(), movement=snapshot.movement(),
        at=now, sent_ns=sent_ns,
    )
    return call if may_send_data(call) else None
