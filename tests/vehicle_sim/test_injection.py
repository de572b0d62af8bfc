"""Injected messages break exactly the rule asked for, and go out on the car's own topic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import pytest

from protocols.assistance import unpack_assistance_call
from protocols.envelope import EcallMessage, unpack
from protocols.errors import EnvelopeError
from protocols.hv import unpack_hv_call
from protocols.ota import unpack_ota_event
from protocols.teleservice import TELESERVICE_RULE, unpack_call, unpack_smart_transfer
from protocols.topics import parse_topic
from tests.vehicle_sim.test_car_refusals import RecordingLink
from vehicle_sim.car import Car
from vehicle_sim.car_steps import injection_of
from vehicle_sim.injection import InjectKind, build, sample
from vehicle_sim.scenario import InjectEvent, ScenarioError, parse
from vehicle_sim.scenario_cars import car_config

VIN = "WMW71DH0X0T700041"
OTHER_VIN = "WMW71DH0X0T799999"
NOW = 1_772_352_000.0
MSD = b"\x01\x02\x03"


def _vin_of(kind: InjectKind, payload: bytes) -> str:
    """The VIN a message says, read by the decoder the backend uses for its kind."""
    readers: dict[InjectKind, Callable[[bytes], Any]] = {
        "ecall": unpack, "telemetry": unpack, "hv_warn": unpack_hv_call,
        "teleservice_call": unpack_call, "smart_maintenance": unpack_smart_transfer,
        "assistance": unpack_assistance_call, "ota_event": unpack_ota_event}
    message = readers[kind](payload)
    vin: str = message.vin
    return vin


@pytest.mark.parametrize("kind", get_args(InjectKind))
def test_injection_sample_is_valid_and_says_the_vin_asked(kind: InjectKind) -> None:
    """Every kind's sample reads back with the car's VIN, and with the override when
    asked: the wrong VIN is the one thing that changed."""
    assert _vin_of(kind, sample(kind, vin=VIN, now=NOW, msd=MSD)) == VIN
    wrong = build(kind, vin=VIN, now=NOW, msd=MSD, vin_override=OTHER_VIN)
    assert _vin_of(kind, wrong) == OTHER_VIN


@pytest.mark.parametrize("kind", get_args(InjectKind))
@pytest.mark.parametrize("size", [3_000, 50_001, 70_000])
def test_injection_pads_to_the_exact_size(kind: InjectKind, size: int) -> None:
    """The message grows to exactly the size asked, across the string headers' steps."""
    assert len(build(kind, vin=VIN, now=NOW, msd=MSD, pad_to_bytes=size)) == size


def test_injection_padded_call_is_refused_for_its_size_only() -> None:
    """A call of 50,001 bytes is refused by the 50 KB rule; one of 50,000 is read."""
    unpack_call(build("teleservice_call", vin=VIN, now=NOW, msd=MSD, pad_to_bytes=50_000))
    with pytest.raises(EnvelopeError) as refused:
        unpack_call(build("teleservice_call", vin=VIN, now=NOW, msd=MSD, pad_to_bytes=50_001))
    assert refused.value.rule == TELESERVICE_RULE


@pytest.mark.parametrize("how", ["truncate", "garbage", "not_a_map"])
def test_injection_corruption_is_refused_as_not_a_msgpack_map(how: str) -> None:
    """Each corruption breaks the encoding: the decoder refuses it by its framing rule."""
    payload = build("teleservice_call", vin=VIN, now=NOW, msd=MSD,
                    corruption=how)  # type: ignore[arg-type]  # the parameter is one of them
    with pytest.raises(EnvelopeError) as refused:
        unpack_call(payload)
    assert (refused.value.field, refused.value.rule) == ("teleservice_call", "msgpack map")


PLAN = f"""
name: inject
vehicles:
  - {{id: a, vin: {VIN}, position: {{lat: 50.85, lon: 4.35}}, activation_country: BE}}
events:
"""


def _injection(step: str) -> tuple[str, bytes]:
    plan = parse(PLAN + f"  - {{at: 0.1s, vehicle: a, inject: {step}}}\n")
    link = RecordingLink()
    car = Car(car_config(plan.vehicles[0], plan), link=link, notify=lambda _m: None,
              warn=lambda _m: None, clock=lambda: NOW)
    (event,) = plan.events
    assert isinstance(event, InjectEvent)
    car.inject(injection_of(event.inject, car, now=NOW))
    (sent,) = link.sent
    return sent


def test_injection_raw_bytes_go_out_as_given_on_the_cars_topic() -> None:
    """Hex and text payloads are published unchanged, on the car's own topic."""
    topic, payload = _injection("{topic_kind: hv_warn, payload_hex: 'c1ff00'}")
    assert (parse_topic(topic).kind, parse_topic(topic).vin, payload) == (
        "hv_warn", VIN, b"\xc1\xff\x00")
    topic, payload = _injection("{topic_kind: ecall, variant: legal, payload_text: hello}")
    assert (parse_topic(topic).variant, payload) == ("legal", b"hello")


def test_injection_built_ecall_carries_the_cars_msd() -> None:
    """A built eCall is a valid envelope around the car's own MSD, with the wrong VIN."""
    topic, payload = _injection(f"{{topic_kind: ecall, build: {{vin_override: {OTHER_VIN}}}}}")
    message = unpack(payload)
    assert isinstance(message, EcallMessage)
    assert (parse_topic(topic).vin, message.vin, message.variant) == (VIN, OTHER_VIN,
                                                                     "intelligent")
    assert len(message.msd) > 20


def test_injection_another_kind_on_a_topic_and_sizes_in_units() -> None:
    """``build.kind`` puts one kind's message on another's topic; sizes take units."""
    topic, payload = _injection("{topic_kind: teleservice_call, build: {kind: assistance, "
                                "pad_to_bytes: 40KB}}")
    assert parse_topic(topic).kind == "teleservice_call"
    assert len(payload) == 40_000
    assert unpack_assistance_call(payload).vin == VIN


@pytest.mark.parametrize("step", [
    "{topic_kind: hv_warn}",
    "{topic_kind: hv_warn, payload_text: a, payload_hex: '00'}",
    "{topic_kind: hv_warn, payload_hex: 'abc'}",
    "{topic_kind: radio, payload_text: a}",
])
def test_injection_step_must_say_one_valid_payload(step: str) -> None:
    """No payload, two payloads, odd hex or an unknown kind: refused when loading."""
    with pytest.raises(ScenarioError, match=r"events\.0\.inject"):
        parse(PLAN + f"  - {{at: 0.1s, vehicle: a, inject: {step}}}\n")
