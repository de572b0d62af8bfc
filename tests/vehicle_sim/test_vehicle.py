"""The vehicle model: specs, the position track, N1/N2 deltas and the MSD it builds."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.msd.model import DIRECTION_UNKNOWN, OCCUPANTS_UNKNOWN, LocationDelta, Propulsion
from vehicle_sim.vehicle import (
    DELTA_MAX,
    DELTA_MIN,
    FIX_WINDOW_S,
    Fix,
    VehicleSpec,
    VehicleState,
    advance,
    build_msd,
    msd_direction,
)

VIN = "WMW21DH0X0T123451"
MAS = 3_600_000  # milliarcseconds per degree


def _spec(*, vin: str = VIN, vehicle_type: str = "passengerVehicleCategoryM1",
          intelligent_bought: bool = True, intelligent_expires: date | None = None,
          ) -> VehicleSpec:
    return VehicleSpec(vin=vin, vehicle_type=vehicle_type, activation_country="BE",
                       propulsion=Propulsion(gasoline_tank_present=True),
                       intelligent_bought=intelligent_bought,
                       intelligent_expires=intelligent_expires)


def _parked(*fixes: tuple[float, float, float], occupants: int = 1) -> VehicleState:
    return VehicleState(tuple(Fix(t, lat, lon) for t, lat, lon in fixes), None, 0.0, occupants)


def test_vehicle_spec_rejects_vin_with_letter_o() -> None:
    """A VIN outside the ISO 3779 alphabet is refused when the spec is built."""
    with pytest.raises(ValueError, match="vin"):
        _spec(vin="WMW21DH0X0T12345O")


def test_vehicle_spec_rejects_unknown_vehicle_type() -> None:
    """Only EN 15722 v3 categories are accepted, so the MSD can always be encoded."""
    with pytest.raises(ValueError, match="vehicle_type"):
        _spec(vehicle_type="spaceship")


def test_vehicle_spec_intelligent_valid_on_expiry_day_inclusive() -> None:
    """The contract is valid on its expiry date and not the day after."""
    spec = _spec(intelligent_expires=date(2030, 1, 1))
    assert spec.intelligent_valid_on(date(2030, 1, 1))
    assert not spec.intelligent_valid_on(date(2030, 1, 2))
    assert not _spec(intelligent_bought=False).intelligent_valid_on(date(2020, 1, 1))


def test_recent_deltas_n1_and_n2_from_track() -> None:
    """N1 points from the location to the previous fix, N2 from N1 to the one before."""
    state = _parked((90.0, 50.0 - 300 / MAS, 4.0 + 2000 / MAS),
                    (95.0, 50.0 - 100 / MAS, 4.0 + 500 / MAS),
                    (100.0, 50.0, 4.0))
    n1, n2 = state.recent_deltas(100.0)
    assert n1 == LocationDelta(-1, 5)
    assert n2 == LocationDelta(-2, 15)


def test_recent_deltas_clamped_to_field_range() -> None:
    """Deltas beyond ±1.5 km are clamped to -512..511 instead of breaking the MSD."""
    state = _parked((90.0, 49.0, 5.0), (95.0, 51.0, 3.0), (100.0, 50.0, 4.0))
    n1, n2 = state.recent_deltas(100.0)
    assert n1 == LocationDelta(DELTA_MAX, DELTA_MIN)
    assert n2 == LocationDelta(DELTA_MIN, DELTA_MAX)


def test_recent_deltas_zero_when_fixes_older_than_window() -> None:
    """Fixes outside the 15 s window are never reported; the delta falls back to zero."""
    state = _parked((100.0 - FIX_WINDOW_S - 1, 50.1, 4.1), (100.0, 50.0, 4.0))
    assert state.recent_deltas(100.0) == (LocationDelta(0, 0), LocationDelta(0, 0))


def test_recent_deltas_ignore_fixes_after_now() -> None:
    """An MSD built at ``now`` reports the fix the TCU had then, not a later one."""
    state = _parked((90.0, 50.0, 4.0), (95.0, 50.0, 4.0 + 100 / MAS), (100.0, 50.0, 4.1))
    assert state.location(95.0).longitude == round((4.0 + 100 / MAS) * MAS)
    assert state.recent_deltas(95.0)[0] == LocationDelta(0, -1)


@given(
    heading=st.floats(min_value=0, max_value=359.99),
    speed=st.floats(min_value=0, max_value=250),
    steps=st.integers(min_value=1, max_value=40),
)
def test_recent_deltas_within_range_while_driving(heading: float, speed: float,
                                                  steps: int) -> None:
    """However the car drives, N1/N2 stay in -512..511 and the track stays short."""
    state = VehicleState.start(lat=48.0, lon=11.0, heading_deg=heading, speed_kmh=speed,
                               occupants=1, now=0.0)
    for _ in range(steps):
        state = advance(state, 0.5)
    for delta in state.recent_deltas(state.t):
        assert DELTA_MIN <= delta.latitude_delta <= DELTA_MAX
        assert DELTA_MIN <= delta.longitude_delta <= DELTA_MAX
    assert len(state.track) <= 2 * FIX_WINDOW_S + 3


@given(lat=st.floats(min_value=-60, max_value=60), lon=st.floats(min_value=-179, max_value=179),
       dlat=st.integers(min_value=-400, max_value=400),
       dlon=st.integers(min_value=-400, max_value=400))
def test_recent_deltas_reconstruct_previous_fix(lat: float, lon: float, dlat: int,
                                                dlon: int) -> None:
    """Location + N1 gives the previous fix back to within one delta unit."""
    state = _parked((95.0, lat + dlat * 100 / MAS, lon + dlon * 100 / MAS), (100.0, lat, lon))
    n1, _ = state.recent_deltas(100.0)
    assert abs(n1.latitude_delta - dlat) <= 1
    assert abs(n1.longitude_delta - dlon) <= 1


def test_advance_moves_east_at_speed() -> None:
    """Heading 90° at 36 km/h moves ~10 m east per second and leaves latitude alone."""
    state = VehicleState.start(lat=0.0, lon=0.0, heading_deg=90.0, speed_kmh=36.0,
                               occupants=1, now=0.0)
    moved = advance(state, 1.0)
    assert moved.t == 1.0
    assert moved.lat == pytest.approx(0.0, abs=1e-9)
    assert moved.lon * 111_195 == pytest.approx(10.0, rel=1e-3)
    assert state.t == 0.0  # advance is pure


def test_advance_fast_ticks_keep_track_bounded() -> None:
    """A 10 ms tick overwrites the newest fix instead of growing the track."""
    state = VehicleState.start(lat=50.0, lon=4.0, heading_deg=0.0, speed_kmh=50.0,
                               occupants=1, now=0.0)
    for _ in range(1000):
        state = advance(state, 0.01)
    assert len(state.track) <= 16
    assert state.t == pytest.approx(10.0)


def test_start_lays_track_behind_a_moving_car() -> None:
    """A car that enters moving north already has N1/N2 south of it."""
    state = VehicleState.start(lat=50.0, lon=4.0, heading_deg=0.0, speed_kmh=72.0,
                               occupants=1, now=100.0)
    n1, n2 = state.recent_deltas(100.0)
    assert n1.latitude_delta < 0 and n1.longitude_delta == 0
    assert n2.latitude_delta == pytest.approx(n1.latitude_delta, abs=1)


@pytest.mark.parametrize(("heading", "direction"), [
    (0.0, 0), (90.0, 45), (180.0, 90), (270.0, 135), (359.0, 0), (3.0, 2), (None, 255),
])
def test_msd_direction_two_degree_steps(heading: float | None, direction: int) -> None:
    """vehicleDirection counts 2° steps clockwise from north; unknown is 255."""
    assert msd_direction(heading) == direction


def test_build_msd_fills_v3_fields() -> None:
    """The MSD carries the spec, the newest fix, N1/N2, direction and occupants."""
    state = VehicleState.start(lat=50.8467, lon=4.3525, heading_deg=90.0, speed_kmh=50.0,
                               occupants=2, now=1000.0)
    msd = build_msd(_spec(), state, message_identifier=3, automatic=True, timestamp=990)
    assert (msd.version, msd.message_identifier, msd.timestamp) == (3, 3, 990)
    assert msd.automatic_activation and not msd.test_call and msd.position_can_be_trusted
    assert msd.vin == VIN and msd.vehicle_type == "passengerVehicleCategoryM1"
    assert msd.location.latitude == round(50.8467 * MAS)
    assert msd.direction == 45 and msd.number_of_occupants == 2
    assert msd.n1 is not None and msd.n1.longitude_delta < 0
    assert msd.n2 is not None


def test_build_msd_unknown_heading_and_occupants() -> None:
    """Unknown heading gives direction 255; unknown occupancy is sent as 255."""
    state = _parked((0.0, 50.0, 4.0), occupants=OCCUPANTS_UNKNOWN)
    msd = build_msd(_spec(), state, message_identifier=1, automatic=False, timestamp=1,
                    position_trusted=False, test_call=True)
    assert msd.direction == DIRECTION_UNKNOWN
    assert msd.number_of_occupants == OCCUPANTS_UNKNOWN
    assert msd.test_call and not msd.position_can_be_trusted


def test_build_msd_rejects_message_identifier_over_255() -> None:
    """messageIdentifier is INTEGER(0..255) on the wire."""
    with pytest.raises(ValueError, match="message_identifier"):
        build_msd(_spec(), _parked((0.0, 50.0, 4.0)), message_identifier=256,
                  automatic=True, timestamp=1)


def test_build_msd_encodes_within_140_bytes() -> None:
    """The MSD the car builds is accepted by the wire codec and fits the in-band limit."""
    codec = pytest.importorskip("protocols.msd.codec")
    state = VehicleState.start(lat=-33.86, lon=151.2, heading_deg=359.0, speed_kmh=130.0,
                               occupants=7, now=1000.0)
    data = codec.encode_msd(build_msd(_spec(), state, message_identifier=255, automatic=True,
                                      timestamp=4_294_967_295))
    assert isinstance(data, bytes) and len(data) <= 140
