"""Load profiles: the shipped ones load, and a mistake is named by its key."""

from __future__ import annotations

import pytest

from loadtest.profile import PROFILE_DIR, ProfileError, load, parse

SHIPPED = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
MINIMAL = "name: x\nvehicles: 10\nduration: 20s\n"


def test_profile_the_shipped_shapes_are_there() -> None:
    assert {"fleet_day", "reconnect_storm", "mass_casualty", "ota_wave"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_shipped_profiles_load_with_thresholds(name: str) -> None:
    profile = load(name)
    assert profile.name == name
    assert profile.thresholds.lost_ecalls == 0


@pytest.mark.parametrize(("text", "where"), [
    (MINIMAL + "vehicels: 3\n", "vehicels: Extra inputs are not permitted"),
    (MINIMAL + "traffic: {ecalls_per_hour: -1}\n", "traffic.ecalls_per_hour:"),
    (MINIMAL + "thresholds: {lost_ecall: 0}\n", "thresholds.lost_ecall:"),
    (MINIMAL + "storm: {at: 1min}\n", "storm.at 60 s is not within the duration 20 s"),
    (MINIMAL + "storm: {at: 10s, down: 2s, back_within: 10s}\n",
     "the storm ends at 22 s (at + down + back_within), after the duration 20 s"),
    (MINIMAL + "burst: {at: 5s, ecalls: 11, area: {lat: 1, lon: 1}}\n",
     "burst.ecalls 11 is more than the 10 vehicles"),
    (MINIMAL + "ramp: 30s\n", "ramp 30 s is longer than the duration 20 s"),
    (MINIMAL + "ramp: 5s\nota: {at: 3s}\n", "ota.at 3 s is within the ramp 5 s"),
    (MINIMAL + "ota: {at: 12s, size_bytes: 5}\n", "ota.size_bytes:"),
    (MINIMAL + "ota: {at: 25s}\n", "ota.at 25 s is not within the duration 20 s"),
    (MINIMAL + "duration: soon\n", "duration:"),
])
def test_profile_errors_name_the_key(text: str, where: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse(text, source="p.yaml")
    assert str(caught.value).startswith("p.yaml: ")
    assert where in str(caught.value)


def test_profile_command_line_overrides_are_validated_as_a_whole() -> None:
    profile = parse(MINIMAL + "ramp: 5s\n")
    assert profile.with_overrides(vehicles=3, duration=8.0).vehicles == 3
    with pytest.raises(ProfileError, match=r"^command line: ramp 5 s is longer"):
        profile.with_overrides(duration=2.0)


def test_profile_unknown_name_lists_the_shipped() -> None:
    with pytest.raises(ProfileError, match="fleet_day"):
        load("no_such_profile")
