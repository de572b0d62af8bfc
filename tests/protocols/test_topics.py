"""Topics of the wire contract: building, parsing, and refusing what is not in it."""

from __future__ import annotations

import pytest

from protocols.errors import TopicError
from protocols.topics import (
    ECALL_FILTER,
    assistance_topic,
    ecall_ack_topic,
    ecall_topic,
    hv_ack_topic,
    hv_warn_topic,
    msd_request_topic,
    parse_topic,
    shared,
    smart_maintenance_topic,
    telemetry_topic,
    teleservice_call_topic,
    voice_topic,
    workshop_map_topic,
)

VIN = "WMW21DH0X0T123451"


def test_topics_round_trip_through_parse() -> None:
    """Every topic the contract builds parses back to its kind and key."""
    assert parse_topic(ecall_topic(VIN, "legal")).variant == "legal"
    assert parse_topic(ecall_topic(VIN, "intelligent")).vin == VIN
    assert parse_topic(telemetry_topic(VIN)).kind == "telemetry"
    assert parse_topic(voice_topic("be")).country == "BE"
    assert parse_topic(ecall_ack_topic(VIN)).kind == "ecall_ack"
    assert parse_topic(msd_request_topic(VIN)).kind == "msd_request"
    assert parse_topic(hv_warn_topic(VIN)).vin == VIN
    assert parse_topic(hv_ack_topic(VIN)).kind == "hv_ack"
    assert parse_topic(teleservice_call_topic(VIN)).kind == "teleservice_call"
    assert parse_topic(smart_maintenance_topic(VIN)).kind == "smart_maintenance"
    assert parse_topic(assistance_topic(VIN)).kind == "assistance"
    assert parse_topic(workshop_map_topic(VIN)).kind == "workshop_map"


def test_topics_emergency_lane_is_a_shared_subscription() -> None:
    """The emergency filter is subscribed through its own share group."""
    assert shared("emergency", ECALL_FILTER) == "$share/emergency/tcu/v1/+/ecall/+"


@pytest.mark.parametrize("topic", [
    "tcu/v1/WMW21DH0X0T123451/ecall/unknown",
    "tcu/v2/WMW21DH0X0T123451/ecall/legal",
    "tcu/v1/WMW21DH0X0T12345I/ecall/legal",
    "tcu/v1/SHORT/telemetry",
    "psap/v1/BEL/voice",
    "something/else",
])
def test_topics_outside_the_contract_are_refused(topic: str) -> None:
    """Unknown topics, versions, VINs with I/O/Q and bad country codes raise TopicError."""
    with pytest.raises(TopicError):
        parse_topic(topic)


def test_topics_builder_refuses_an_invalid_vin() -> None:
    """A topic is never built for a VIN outside ISO 3779's alphabet."""
    with pytest.raises(TopicError) as err:
        ecall_topic("WMW21DH0X0T12345O", "legal")
    assert err.value.field == "vin"
