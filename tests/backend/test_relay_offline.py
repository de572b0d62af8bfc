"""The relay on in-memory streams and broker: routing, de-duplication, acknowledgement,
rejections and Redis outages, without a server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict

import msgpack
import pytest

from backend.emergency.entries import EcallEntry, HvWarnEntry, VoiceEntry, psap_entry
from backend.infra import keys
from protocols.envelope import EcallMessage, IntelligentExtras, VoiceCall, pack
from protocols.hv import HvWarnCall, pack_hv_call
from protocols.msd.codec import encode_msd
from protocols.msd.jsonform import msd_to_json
from protocols.topics import (
    EcallVariant,
    ecall_ack_topic,
    ecall_topic,
    hv_ack_topic,
    hv_warn_topic,
    rejected_topic,
    voice_topic,
)
from tests.backend.support import make_msd, new_vin
from tests.fakes import as_stored
from tests.fakes.decodes import count_msd_decodes
from tests.fakes.path import EcallPath
from tests.sized_ecall import framed, intelligent_ecall_of_size

EXTRAS = IntelligentExtras(2, 1, 56.0, "frontal", False, False, "severe", 0.31, True, "m")


def ecall(variant: EcallVariant, vin: str, incident: str, *, msg_id: int = 1,
          lat: float = 50.8467, lon: float = 4.3525, country: str = "BE",
          msd_vin: str | None = None) -> tuple[str, bytes]:
    """What a car publishes for one eCall transmission: its topic and envelope."""
    msd = encode_msd(make_msd(msd_vin or vin, msg_id=msg_id, lat=lat, lon=lon))
    message = EcallMessage(variant, vin, incident, msg_id, msd, time.time_ns(), country,
                           EXTRAS if variant == "intelligent" else None)
    return ecall_topic(vin, variant), pack(message)


def hv_call(vin: str, incident: str, *, lat: float = 50.8467, lon: float = 4.3525
            ) -> HvWarnCall:
    return HvWarnCall(vin=vin, lat=lat, lon=lon, model="BEV", plug_state="plugged",
                      incident=incident, timestamp=time.time(), doors={"front_left": "closed"},
                      boot="closed", engine_state="off", ignition="off", sent_ns=time.time_ns())


def _incident() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def path() -> EcallPath:
    return EcallPath()


async def test_relay_legal_ecall_goes_to_the_psap_of_its_position_and_is_acked(
        path: EcallPath) -> None:
    """A Legal eCall in Amsterdam lands on PSAP NL's stream, nothing on the OEM side."""
    vin, incident = new_vin(), _incident()
    await path.relay().handle(*ecall("legal", vin, incident, lat=52.37, lon=4.89))
    [stored] = path.psap.stream(keys.psap_stream("psap-NL"))
    entry = psap_entry(stored)
    assert isinstance(entry, EcallEntry)
    assert (entry.variant, entry.incident, entry.psap_reason) == ("legal", incident, "position")
    assert path.oem.entries == {}
    [(topic, ack)] = path.broker.acks()
    assert (topic, ack.incident, ack.msg_id, ack.route) == (
        ecall_ack_topic(vin), incident, 1, "psap-NL")


async def test_relay_duplicate_is_appended_once_and_acked_twice(path: EcallPath) -> None:
    """A QoS 1 redelivery is de-duplicated, and acknowledged again: the car may have
    missed the first acknowledgement."""
    message = ecall("legal", new_vin(), _incident())
    relay = path.relay()
    await relay.handle(*message)
    await relay.handle(*message)
    assert len(path.psap.stream(keys.psap_stream("psap-BE"))) == 1
    assert [ack.msg_id for _, ack in path.broker.acks()] == [1, 1]
    assert (path.count(keys.INGEST_COUNTERS, "legal:new"),
            path.count(keys.INGEST_COUNTERS, "legal:dup")) == (1, 1)


async def test_relay_intelligent_ecall_goes_to_the_call_centre_decoded_once(
        path: EcallPath, monkeypatch: pytest.MonkeyPatch) -> None:
    """The call centre's entry carries the VIN, the extras and the MSD as the relay
    decoded it, in the relay's one decode."""
    decodes = count_msd_decodes(monkeypatch)
    vin, incident = new_vin(), _incident()
    await path.relay().handle(*ecall("intelligent", vin, incident))
    [stored] = path.oem.stream(keys.CALLCENTRE_STREAM)
    entry = EcallEntry.from_fields(stored)
    assert (entry.vin, entry.extras, entry.psap) == (vin, EXTRAS, "psap-BE")
    assert entry.decoded_msd() == msd_to_json(make_msd(vin))
    assert len(decodes) == 1
    assert path.psap.entries == {}
    assert [ack.route for _, ack in path.broker.acks()] == ["callcentre"]


async def test_relay_hv_warn_call_goes_to_the_call_centre_as_the_car_framed_it(
        path: EcallPath) -> None:
    vin, incident = new_vin(), _incident()
    record = pack_hv_call(hv_call(vin, incident))
    await path.relay().handle(hv_warn_topic(vin), record)
    [stored] = path.oem.stream(keys.CALLCENTRE_STREAM)
    entry = HvWarnEntry.from_fields(stored)
    assert (entry.record, entry.call.incident) == (record, incident)
    [(topic, ack)] = path.broker.acks()
    assert (topic, ack.msg_id, ack.route) == (hv_ack_topic(vin), 1, "callcentre")


async def test_relay_voice_call_goes_to_the_network_countrys_psap_without_data(
        path: EcallPath) -> None:
    call = _incident()
    await path.relay().handle(voice_topic("SI"), pack(VoiceCall(call, time.time_ns())))
    [stored] = path.psap.stream(keys.psap_stream("psap-SI"))
    assert psap_entry(stored) == VoiceEntry.from_fields(stored)
    assert {b"vin", b"msd", b"extras"}.isdisjoint(stored)
    assert path.broker.published == []  # a voice call is answered by voice, not by a message


@pytest.mark.parametrize(("country", "desk"), [("NL", "psap-NL"), ("US", "psap-INTL")])
async def test_relay_ecall_without_a_position_falls_back_to_the_network_country(
        path: EcallPath, country: str, desk: str) -> None:
    """At 0,0 the position says nothing: the network country's PSAP, else INTL."""
    vin, incident = new_vin(), _incident()
    await path.relay().handle(*ecall("legal", vin, incident, lat=0.0, lon=0.0,
                                     country=country))
    [stored] = path.psap.stream(keys.psap_stream(desk))
    assert psap_entry(stored).psap_reason in ("network_country", "outside_directory")
    assert [ack.route for _, ack in path.broker.acks()] == [desk]


Message = Callable[[str], tuple[str, bytes]]
MALFORMED: dict[str, tuple[Message, str]] = {
    "MSD of another car": (lambda vin: ecall("legal", vin, "x", msd_vin=new_vin()),
                           "vehicleIdentificationNumber:== envelope vin"),
    "Legal envelope on the Intelligent topic": (
        lambda vin: (ecall_topic(vin, "intelligent"), ecall("legal", vin, "x")[1]),
        "vin:envelope vin/variant == topic"),
    "not msgpack": (lambda vin: (ecall_topic(vin, "legal"), b"\xc1 not msgpack"),
                    "payload:msgpack map"),
    "voice envelope on an eCall topic": (
        lambda vin: (ecall_topic(vin, "legal"), pack(VoiceCall("c", 1))),
        "k:ecall on tcu/v1/{vin}/ecall/*"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_relay_malformed_message_is_counted_answered_and_neither_handed_off_nor_acked(
        path: EcallPath, case: str) -> None:
    """The car is told on its ``rejected`` topic, with the field and rule counted."""
    vin = new_vin()
    topic, payload = MALFORMED[case][0](vin)
    counted = MALFORMED[case][1]
    await path.relay().handle(topic, payload)
    assert path.count(keys.ERROR_COUNTERS, counted) == 1
    assert path.count(keys.INGEST_COUNTERS, "rejected") == 1
    assert (path.psap.appends, path.oem.appends, path.broker.acks()) == (0, 0, [])
    [(reply_topic, rejection)] = path.broker.rejections()
    assert reply_topic == rejected_topic(vin)
    assert (rejection.topic, f"{rejection.field}:{rejection.rule}") == (topic, counted)


async def test_relay_rejection_names_the_refused_ecalls_incident_and_msg_id(
        path: EcallPath) -> None:
    vin = new_vin()
    await path.relay().handle(*ecall("legal", vin, "inc-7", msg_id=3, msd_vin=new_vin()))
    [(_, rejection)] = path.broker.rejections()
    assert (rejection.incident, rejection.message_id) == ("inc-7", "3")


async def test_relay_refusal_on_a_topic_without_a_vin_is_counted_and_not_answered(
        path: EcallPath) -> None:
    await path.relay().handle(voice_topic("BE"), b"\xc1")
    await path.relay().handle("tcu/v1/not-a-vin/ecall/legal", b"\xc1")
    assert path.count(keys.INGEST_COUNTERS, "rejected") == 2
    assert path.count(keys.REPLY_COUNTERS, "no_vin") == 2
    assert path.broker.published == []


async def test_relay_waits_out_a_redis_outage_and_hands_off_once(path: EcallPath) -> None:
    """Two failed appends are retried; the eCall is appended once and acked once, after."""
    path.psap.fail_next(2)
    await path.relay().handle(*ecall("legal", new_vin(), _incident()))
    assert len(path.psap.stream(keys.psap_stream("psap-BE"))) == 1
    assert path.count(keys.INGEST_COUNTERS, "handoff_retry") == 2
    assert len(path.broker.published) == 1


async def test_relay_an_oversized_intelligent_ecall_is_relayed_and_flagged(
        path: EcallPath) -> None:
    """Over its 1 KB budget a safety call is still handed off and acked, and flagged."""
    vin, incident = new_vin(), _incident()
    big = IntelligentExtras(**(asdict(EXTRAS) | {"model": "m" * 1200}))
    message = EcallMessage("intelligent", vin, incident, 1, encode_msd(make_msd(vin)),
                           time.time_ns(), "BE", big)
    # Framed as the envelope is, without the budget check of ``pack``.
    payload = msgpack.packb({"v": 1, "k": "ecall", **asdict(message)})
    await path.relay().handle(ecall_topic(vin, "intelligent"), payload)
    [stored] = path.oem.stream(keys.CALLCENTRE_STREAM)
    assert EcallEntry.from_fields(stored).extras == big
    assert path.count("metrics:budget-flags", "ecall_intelligent:message_over_budget") == 1
    assert len(path.broker.published) == 1
    assert as_stored(EcallEntry.from_fields(stored).to_fields()) == stored


@pytest.mark.parametrize(("size", "flagged"), [(999, 0), (1_000, 1), (1_001, 1)])
async def test_relay_flags_an_ecall_of_one_kilobyte_as_the_meter_does(
        path: EcallPath, size: int, flagged: int) -> None:
    """ "< 1 KB" read once (docs/requirements.md#conv-bounds): 1,000 bytes is flagged here,
    as the meter flags it and the car refuses to send it; 999 bytes is not."""
    vin = new_vin()
    message = intelligent_ecall_of_size(vin, _incident(), encode_msd(make_msd(vin)), size)
    payload = framed(message)
    await path.relay().handle(ecall_topic(vin, "intelligent"), payload)
    assert len(path.oem.stream(keys.CALLCENTRE_STREAM)) == 1
    assert len(path.broker.published) == 1
    assert path.count("metrics:budget-flags", "ecall_intelligent:message_over_budget") == flagged
