"""Answers to refused uplinks, without a server: who is answered, with what, how often,
and the QoS screen of safety calls."""

from __future__ import annotations

import msgpack
import pytest

from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.rejection_replies import (
    PER_CAR_BURST,
    PER_CAR_EVERY_S,
    Refusals,
    ReplyLimiter,
    safety_qos_screen,
)
from protocols.contract import SAFETY_QOS_RULE
from protocols.errors import EnvelopeError, ProtocolError
from protocols.ota import OtaEvent, pack_ota_event
from protocols.rejection import ID_CHARS, REJECTION_MAX, identity_of, unpack_rejection
from protocols.topics import (
    PROBE_PREFIX,
    ecall_topic,
    hv_warn_topic,
    ota_event_topic,
    rejected_topic,
    telemetry_topic,
    voice_topic,
)
from tests.backend.support import new_vin
from tests.fakes.broker import FakeBroker

REFUSED = EnvelopeError("bad", field="vin", rule="record vin == topic vin")


class Ticking:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_limiter_gives_a_car_its_burst_then_one_answer_per_interval() -> None:
    limiter = ReplyLimiter()
    vin = new_vin()
    allowed = [limiter.allow(vin, 0.0) for _ in range(PER_CAR_BURST + 3)]
    assert allowed == [True] * PER_CAR_BURST + [False] * 3
    assert limiter.allow(vin, PER_CAR_EVERY_S)
    assert not limiter.allow(vin, PER_CAR_EVERY_S)
    assert limiter.allow(new_vin(), PER_CAR_EVERY_S)  # another car has its own burst


def test_limiter_bounds_all_cars_together_and_the_cars_it_remembers() -> None:
    limiter = ReplyLimiter(all_per_s=3, tracked=2)
    answered = [limiter.allow(new_vin(), 0.0) for _ in range(5)]
    assert answered == [True, True, True, False, False]
    assert limiter.cars == 2
    assert limiter.allow(new_vin(), 1.0)  # the shared bucket refilled


def test_refusals_answer_the_car_of_the_topic_with_field_rule_and_identity() -> None:
    broker, counters = FakeBroker(), Counters()
    vin = new_vin()
    event = pack_ota_event(OtaEvent(
        vin=vin, campaign_id="c-1", version="1", state="notified", at=1.0, bytes_done=0,
        bytes_total=1_000_000_000, channel=None, reason=None, running_version="1",
        sent_ns=1234))
    assert Refusals(broker.publish, counters).answer(ota_event_topic(vin), event, REFUSED)
    [(topic, rejection)] = broker.rejections()
    assert topic == rejected_topic(vin)
    assert (rejection.topic, rejection.message_id, rejection.incident, rejection.field,
            rejection.rule) == (ota_event_topic(vin), "1234", None, "vin", REFUSED.rule)
    assert counters.totals[keys.REPLY_COUNTERS] == {"sent": 1}


def test_refusals_hold_back_a_flood_and_count_what_they_held() -> None:
    broker, counters, clock = FakeBroker(), Counters(), Ticking()
    refusals = Refusals(broker.publish, counters, clock=clock)
    vin = new_vin()
    big = b"\xc1" * 200_000
    for _ in range(1_000):
        refusals.answer(telemetry_topic(vin), big, REFUSED)
    assert len(broker.published) == PER_CAR_BURST
    assert all(len(payload) <= REJECTION_MAX for _, payload in broker.published)
    assert counters.totals[keys.REPLY_COUNTERS] == {"sent": PER_CAR_BURST,
                                                    "held_back": 1_000 - PER_CAR_BURST}
    clock.now += PER_CAR_EVERY_S
    assert refusals.answer(telemetry_topic(vin), big, REFUSED)


@pytest.mark.parametrize("topic", [voice_topic("BE"), "tcu/v1/NOT-A-VIN/ecall/legal",
                                   "elsewhere"])
def test_refusals_answer_nobody_when_the_topic_names_no_car(topic: str) -> None:
    broker, counters = FakeBroker(), Counters()
    assert not Refusals(broker.publish, counters).answer(topic, b"", REFUSED)
    assert broker.published == []
    assert counters.totals[keys.REPLY_COUNTERS] == {"no_vin": 1}


def test_refusals_clip_long_texts_to_the_contract() -> None:
    broker = FakeBroker()
    vin = new_vin()
    long = EnvelopeError("x", field="f" * 500, rule="r" * 500)
    payload = msgpack.packb({"msg_id": "m" * 500, "incident": "i" * 500})
    Refusals(broker.publish, Counters()).answer(ecall_topic(vin, "legal"), payload, long)
    [(_, rejection)] = broker.rejections()
    assert rejection.message_id == "m" * ID_CHARS
    assert unpack_rejection(broker.published[0][1]) == rejection


@pytest.mark.parametrize(("payload", "identity"), [
    (b"\xc1", (None, None)),
    (msgpack.packb([1, 2]), (None, None)),
    (msgpack.packb({"msg_id": True, "incident": 5}), (None, "5")),
    (msgpack.packb({"msg_id": 3, "incident": "inc-1"}), ("3", "inc-1")),
    (msgpack.packb({"msg_id": 3, "pad": "x" * 70_000}), (None, None)),
])
def test_identity_is_read_leniently_from_what_could_be_read(
        payload: bytes, identity: tuple[str | None, str | None]) -> None:
    assert identity_of("ecall", payload) == identity


def _screened(topic: str, qos: int) -> list[tuple[str, ProtocolError]]:
    refused: list[tuple[str, ProtocolError]] = []
    screen = safety_qos_screen(lambda t, _p, exc: refused.append((t, exc)))
    taken = screen(topic, b"", qos)
    assert taken == bool(refused)
    return refused


@pytest.mark.parametrize("topic", [ecall_topic("WMW21DH0X0T123456", "legal"),
                                   hv_warn_topic("WMW21DH0X0T123456"), voice_topic("BE")])
def test_screen_refuses_a_safety_call_at_qos_0_with_field_qos(topic: str) -> None:
    [(refused_topic, exc)] = _screened(topic, 0)
    assert (refused_topic, exc.field, exc.rule) == (topic, "qos", SAFETY_QOS_RULE)
    assert _screened(topic, 1) == []


@pytest.mark.parametrize("topic", [telemetry_topic("WMW21DH0X0T123456"),
                                   f"{PROBE_PREFIX}emergency-1", "tcu/v1/bad/ecall/legal"])
def test_screen_passes_what_is_no_safety_call_to_the_handler(topic: str) -> None:
    assert _screened(topic, 0) == []
