"""A lumped thermal model of one car's high-voltage battery, for the HV Warn Call.

MINI Connected §2b (docs/requirements.md#hv-r1): the car "bewaakt de hoogvoltaccu" for a
possible ongoing "thermisch voorval (temperatuur- en/of drukverhoging)" while parked or
charging, and keeps doing so "zelfs wanneer de bestuurder de auto heeft verlaten en
afgesloten". The
model runs in every mode (driving too, as the platform asks; the text names
parked and charging) and reports a ``ThermalEvent`` once per incident, so the car can
send the warn call at once. UN GTR 20 (EV safety, thermal propagation) asks for a
warning at least 5 minutes before a hazard in the cabin; detection here is within one
integration step (``MAX_SUBSTEP_S``).

The pack is one thermal mass ``C`` (J/K) at the cell temperature ``T``::

    C dT/dt = I²R + Q_runaway - UA_active·max(T - T_set, 0)·[driving|charging]
              - UA_passive·(T - T_ambient)

Joule heat comes from the mode's pack current; the thermal system (coolant loop) is
active only while driving or charging; parked, off and locked leave only passive
exchange with the air. Pack pressure is ambient plus a gauge part: the breather valve
(``BREATHER_TAU_S``) bleeds slow changes back to ambient, isochoric gas expansion
follows dT/dt, and electrolyte off-gassing adds gas above ``GAS_ONSET_C``.

``thermal_runaway(state, start_at)`` injects a fault: from ``start_at`` the cell makes
heat that grows exponentially (``RUNAWAY_GROWTH_TAU_S``), capped at the runaway peak
power and stopping once the pack's runaway energy is spent.

Every number below is a model parameter, chosen to be plausible for automotive Li-ion,
not taken from a seed: cells are run below about 60 °C; SEI decomposition and the first
self-heating start around 80-90 °C, separator melt around 130 °C and full runaway
around 150-200 °C; sealed packs carry a breather and burst valve that opens at a few
tens of kPa over ambient. The alarm thresholds sit between normal operation and those
onsets: ``TEMP_ALARM_C`` 90 °C and ``PRESSURE_ALARM_GAUGE_KPA`` 10 kPa over ambient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final, Literal, get_args

Powertrain = Literal["BEV", "PHEV"]
BatteryMode = Literal["driving", "charging", "parked", "off", "locked"]
EventKind = Literal["temperature", "pressure", "both"]

POWERTRAINS: Final = frozenset(get_args(Powertrain))
MODES: Final = frozenset(get_args(BatteryMode))
ACTIVE_MODES: Final = frozenset({"driving", "charging"})  # coolant loop running

ATMOSPHERE_KPA: Final = 101.325  # standard atmosphere, the pack's resting pressure
KELVIN: Final = 273.15
MAX_SUBSTEP_S: Final = 1.0  # explicit Euler step; the fastest time constant is ~minutes
TEMP_ALARM_C: Final = 90.0  # model parameter: above the ~60 °C operating limit, at SEI onset
PRESSURE_ALARM_GAUGE_KPA: Final = 10.0  # model parameter: well below burst-valve opening
TEMP_CLEAR_C: Final = 60.0  # an incident closes only once back in the operating range
PRESSURE_CLEAR_GAUGE_KPA: Final = 2.0
GAS_ONSET_C: Final = 80.0  # model parameter: electrolyte/SEI off-gassing starts here
BREATHER_TAU_S: Final = 60.0  # the breather valve bleeds gauge pressure with this constant
THERMOSTAT_C: Final = 25.0  # the thermal system cools the cells towards this


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryParams:
    """The physical constants of one pack (all model parameters)."""

    heat_capacity_j_per_k: float
    resistance_ohm: float
    drive_current_a: float
    charge_current_a: float
    ua_active_w_per_k: float
    ua_passive_w_per_k: float
    runaway_initial_w: float
    runaway_growth_tau_s: float
    runaway_peak_w: float
    runaway_energy_j: float
    gas_kpa_per_s_per_k: float
    temp_alarm_c: float = TEMP_ALARM_C
    pressure_alarm_gauge_kpa: float = PRESSURE_ALARM_GAUGE_KPA

    @classmethod
    def for_powertrain(cls, powertrain: str) -> BatteryParams:
        """Typical packs: BEV ~80 kWh, ~450 kg at 400 V; PHEV ~20 kWh, ~130 kg at 350 V."""
        if powertrain == "BEV":
            return cls(heat_capacity_j_per_k=450_000.0, resistance_ohm=0.10,
                       drive_current_a=80.0, charge_current_a=100.0,
                       ua_active_w_per_k=250.0, ua_passive_w_per_k=15.0,
                       runaway_initial_w=500.0, runaway_growth_tau_s=120.0,
                       runaway_peak_w=500_000.0, runaway_energy_j=450_000.0 * 600.0,
                       gas_kpa_per_s_per_k=0.005)
        if powertrain == "PHEV":
            return cls(heat_capacity_j_per_k=130_000.0, resistance_ohm=0.15,
                       drive_current_a=60.0, charge_current_a=20.0,
                       ua_active_w_per_k=120.0, ua_passive_w_per_k=8.0,
                       runaway_initial_w=200.0, runaway_growth_tau_s=120.0,
                       runaway_peak_w=150_000.0, runaway_energy_j=130_000.0 * 600.0,
                       gas_kpa_per_s_per_k=0.008)
        raise ValueError(f"{powertrain!r} has no HV battery (BEV and PHEV only, HV-R1)")


@dataclass(frozen=True, slots=True)
class ThermalEvent:
    """A threshold crossing that opens a thermal incident; ``at`` is when it was seen."""

    kind: EventKind
    at: float
    cell_temp_c: float
    pressure_kpa: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryState:
    """The pack at time ``t``; ``incidents`` counts the incidents opened so far.

    ``runaway_start`` is the injected fault's start (None: healthy cells) and
    ``runaway_spent_j`` the runaway energy already released.
    """

    powertrain: Powertrain
    params: BatteryParams
    t: float
    cell_temp_c: float
    pressure_kpa: float = ATMOSPHERE_KPA
    runaway_start: float | None = None
    runaway_spent_j: float = 0.0
    incident_open: bool = False
    incidents: int = 0

    def __post_init__(self) -> None:
        if self.powertrain not in POWERTRAINS:
            raise ValueError(
                f"{self.powertrain!r} has no HV battery (BEV and PHEV only, HV-R1)")
        if not math.isfinite(self.cell_temp_c) or self.cell_temp_c < -KELVIN:
            raise ValueError(f"cell temperature {self.cell_temp_c} °C is not a temperature")
        if not math.isfinite(self.pressure_kpa) or self.pressure_kpa <= 0:
            raise ValueError(f"pack pressure {self.pressure_kpa} kPa is not a pressure")

    @classmethod
    def at_rest(cls, powertrain: str, *, ambient_c: float, now: float) -> BatteryState:
        """A pack that has sat long enough to be at ambient temperature and pressure."""
        if powertrain not in POWERTRAINS:
            raise ValueError(f"{powertrain!r} has no HV battery "
                             "(BEV and PHEV only, HV-R1)")
        return cls(powertrain=powertrain,  # type: ignore[arg-type]  # checked just above
                   params=BatteryParams.for_powertrain(powertrain), t=now,
                   cell_temp_c=ambient_c)

    @property
    def gauge_kpa(self) -> float:
        return self.pressure_kpa - ATMOSPHERE_KPA


def thermal_runaway(state: BatteryState, start_at: float) -> BatteryState:
    """Inject a cell fault whose heat starts at ``start_at`` and grows until runaway."""
    if not math.isfinite(start_at):
        raise ValueError(f"start_at {start_at} is not a time")
    return replace(state, runaway_start=start_at, runaway_spent_j=0.0)


def step(state: BatteryState, dt_s: float, *, mode: BatteryMode, ambient_c: float,
         now: float) -> tuple[BatteryState, tuple[ThermalEvent, ...]]:
    """Advance the pack by ``dt_s`` seconds ending at ``now``; report a new incident.

    Integrates in substeps of at most ``MAX_SUBSTEP_S`` so the crossing time is known
    to a second whatever ``dt_s`` the runner uses. At most one event per incident: the
    kind is "both" when temperature and pressure cross within the same substep. An
    incident closes once the pack is back under ``TEMP_CLEAR_C`` and
    ``PRESSURE_CLEAR_GAUGE_KPA``, except after a runaway: those cells do not recover.
    """
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {sorted(MODES)}")
    if not math.isfinite(dt_s) or dt_s < 0:
        raise ValueError(f"dt_s {dt_s} must be a non-negative number")
    p = state.params
    t = now - dt_s
    temp, gauge, spent = state.cell_temp_c, state.gauge_kpa, state.runaway_spent_j
    open_, incidents = state.incident_open, state.incidents
    events: list[ThermalEvent] = []
    remaining = dt_s
    while True:
        faulted = state.runaway_start is not None and t >= state.runaway_start
        if open_ and not faulted and temp < TEMP_CLEAR_C and gauge < PRESSURE_CLEAR_GAUGE_KPA:
            open_ = False
        hot, pressed = temp >= p.temp_alarm_c, gauge >= p.pressure_alarm_gauge_kpa
        if not open_ and (hot or pressed):
            kind: EventKind = "both" if hot and pressed else ("temperature" if hot else "pressure")
            events.append(ThermalEvent(kind, t, temp, ATMOSPHERE_KPA + gauge))
            open_, incidents = True, incidents + 1
        if remaining <= 0:
            break
        h = min(MAX_SUBSTEP_S, remaining)
        runaway_w = _runaway_w(p, state.runaway_start, t, spent)
        heat_w = _joule_w(p, mode) + runaway_w - _cooling_w(p, mode, temp, ambient_c)
        d_temp = heat_w / p.heat_capacity_j_per_k * h
        expansion = (ATMOSPHERE_KPA + gauge) * d_temp / (temp + KELVIN)
        off_gas = p.gas_kpa_per_s_per_k * max(temp - GAS_ONSET_C, 0.0) * h
        bleed = gauge * (1.0 - math.exp(-h / BREATHER_TAU_S))
        temp, gauge = temp + d_temp, gauge + expansion + off_gas - bleed
        spent += runaway_w * h
        t += h
        remaining -= h
    return replace(state, t=now, cell_temp_c=temp, pressure_kpa=ATMOSPHERE_KPA + gauge,
                   runaway_spent_j=spent, incident_open=open_,
                   incidents=incidents), tuple(events)


def _joule_w(p: BatteryParams, mode: BatteryMode) -> float:
    current = {"driving": p.drive_current_a, "charging": p.charge_current_a}.get(mode, 0.0)
    return current * current * p.resistance_ohm


def _cooling_w(p: BatteryParams, mode: BatteryMode, temp: float, ambient_c: float) -> float:
    active = p.ua_active_w_per_k * max(temp - THERMOSTAT_C, 0.0) if mode in ACTIVE_MODES else 0.0
    return active + p.ua_passive_w_per_k * (temp - ambient_c)


def _runaway_w(p: BatteryParams, start: float | None, t: float, spent: float) -> float:
    if start is None or t < start or spent >= p.runaway_energy_j:
        return 0.0
    exponent = min((t - start) / p.runaway_growth_tau_s, math.log(p.runaway_peak_w))
    return min(p.runaway_initial_w * math.exp(exponent), p.runaway_peak_w)
