"""The car turns a battery ``ThermalEvent`` into the High Voltage Warn Call (MINI Connected §2b,
docs/requirements.md#hv-r3).

"Als de sensoren een thermisch voorval herkennen, zal de auto onmiddellijk de relevante
gegevens naar het verantwoordelijke BMW Call Center sturen": the warn call is built from
the event and a snapshot of the body state at that moment, with nothing the car would
have to wait for. The incident id is the VIN plus the pack's incident counter, so a
second incident of the same car gets a new id and a repeat of the same one does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from protocols.hv import EngineState, HvWarnCall, Ignition, OpenClosed, PlugState
from vehicle_sim.battery import BatteryMode, BatteryState, ThermalEvent, step, thermal_runaway


@dataclass(frozen=True, slots=True, kw_only=True)
class BodySnapshot:
    """What the body and powertrain controllers report when the event is seen."""

    lat: float
    lon: float
    plug_state: PlugState
    doors: dict[str, OpenClosed] = field(default_factory=lambda: {
        "front_left": "closed", "front_right": "closed",
        "rear_left": "closed", "rear_right": "closed",
    })
    boot: OpenClosed = "closed"
    engine_state: EngineState = "off"
    ignition: Ignition = "off"


def incident_id(vin: str, battery: BatteryState) -> str:
    """``<vin>-hv-<n>`` for the pack's n-th thermal incident."""
    return f"{vin}-hv-{battery.incidents}"


def warn_call(event: ThermalEvent, battery: BatteryState, body: BodySnapshot, *, vin: str,
              sent_ns: int) -> HvWarnCall:
    """The §2b record for ``event``; ``battery`` is the state ``step`` returned with it."""
    return HvWarnCall(
        vin=vin, lat=body.lat, lon=body.lon, model=battery.powertrain,
        plug_state=body.plug_state, incident=incident_id(vin, battery),
        timestamp=event.at, doors=dict(body.doors), boot=body.boot,
        engine_state=body.engine_state, ignition=body.ignition, sent_ns=sent_ns,
    )


RUNAWAY_HORIZON_S: Final = 4 * 3600.0
_SCAN_STEP_S: Final = 10.0


def runaway_until_alarm(powertrain: str, *, mode: BatteryMode, ambient_c: float,
                        horizon_s: float = RUNAWAY_HORIZON_S) -> tuple[ThermalEvent, BatteryState]:
    """Run an injected cell fault from its start until the pack raises its alarm.

    A scenario says "thermal runaway now" and means the moment the car notices it, so
    the runner plays the fault forward in model time and stamps the call with the
    current time; the model's own time to alarm is ``event.at``.
    """
    battery = thermal_runaway(BatteryState.at_rest(powertrain, ambient_c=ambient_c, now=0.0),
                              0.0)
    t = 0.0
    while t < horizon_s:
        t += _SCAN_STEP_S
        battery, events = step(battery, _SCAN_STEP_S, mode=mode, ambient_c=ambient_c, now=t)
        if events:
            return events[0], battery
    raise ValueError(f"no thermal alarm within {horizon_s:.0f} s in mode {mode}")
