"""The open-file limit ``telematics load`` asks for: raised for the fleet, never lowered."""

from __future__ import annotations

import resource

from cli.load_limits import HEADROOM, at_least, needed


def test_load_limits_a_socket_per_car_and_headroom() -> None:
    assert needed(10_000) == 10_000 + HEADROOM


def test_load_limits_raise_to_the_fleet_never_lower_keep_infinity() -> None:
    assert at_least(1024, 11_024) == 11_024
    assert at_least(65_536, 11_024) == 65_536
    assert at_least(resource.RLIM_INFINITY, 11_024) == resource.RLIM_INFINITY
