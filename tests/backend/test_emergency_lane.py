"""The emergency lane against a real Mosquitto and Redis: route, hand off, acknowledge."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict
from typing import Any, cast

import gmqtt
import msgpack
from redis.asyncio import Redis

from backend.infra import keys
from backend.privacy.budget_store import usage as usage_of
from backend.privacy.retention_store import read_tag
from protocols.envelope import ECALL_ENVELOPE_MAX, EcallMessage, IntelligentExtras, VoiceCall, pack
from protocols.msd.codec import encode_msd
from protocols.topics import ecall_topic, voice_topic
from tests.backend.support import Car, Lanes, connect_as, disconnect, make_msd, new_vin

Entries = list[tuple[bytes, dict[bytes, bytes]]]  # XRANGE's reply on a bytes connection


async def _record(redis_url: str, db: int, key: str, *, timeout_s: float = 5.0,
                  updates: int = 0) -> dict[str, Any]:
    redis = Redis.from_url(redis_url, db=db)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            raw = cast(dict[bytes, bytes], await redis.hgetall(key))
            if raw and int(raw.get(b"updates", b"0")) >= updates:
                return {k.decode(): v.decode() for k, v in raw.items()}
            assert time.monotonic() < deadline, f"{key} never appeared"
            await asyncio.sleep(0.02)
    finally:
        await redis.aclose()


async def _psap_record(lanes: Lanes, incident: str, *, updates: int = 0) -> dict[str, Any]:
    """The PSAP desks' record of ``incident``, read in the PSAP domain's own Redis."""
    return await _record(lanes.settings.psap_url, lanes.settings.psap_db,
                         keys.psap_incident_key(incident), updates=updates)


async def _oem_mentions(redis_url: str, db: int, *needles: str) -> list[str]:
    """Every OEM-side key or stream entry that contains one of ``needles``."""
    redis = Redis.from_url(redis_url, db=db)
    found = []
    try:
        async for key in redis.scan_iter(count=1000):
            text = key.decode()
            if any(n in text for n in needles):
                found.append(text)
            kind = cast(bytes, await redis.type(key)).decode()
            if kind == "stream":
                for _id, fields in cast(Entries, await redis.xrange(key)):
                    blob = b"".join(fields.values())
                    if any(n.encode() in blob for n in needles):
                        found.append(f"{text} entry")
            elif kind == "hash":
                raw = cast(dict[bytes, bytes], await redis.hgetall(key))
                blob = b"".join(k + v for k, v in raw.items())
                if any(n.encode() in blob for n in needles):
                    found.append(f"{text} field")
    finally:
        await redis.aclose()
    return found


def _incident() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


async def test_emergency_lane_legal_ecall_reaches_psap_and_is_acked(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """A Legal eCall in Brussels lands at PSAP BE and the car gets an ack naming it."""
    incident = _incident()
    async with Car(mqtt_url, new_vin()) as car:
        car.send("legal", incident)
        ack = await car.ack()
    assert (ack.incident, ack.msg_id, ack.route) == (incident, 1, "psap-BE")
    record = await _psap_record(lanes, incident)
    assert record["desk"] == "psap-BE"
    assert record["variant"] == "legal"
    assert json.loads(record["msd"])["msdStructure"]["vehicleDirection"] == 45
    assert 0 < float(record["latency_ms"]) < 1000


async def test_emergency_lane_legal_ecall_leaves_nothing_on_the_oem_side(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """ECALL-R5: no Legal eCall data is processed or stored by the OEM."""
    incident, vin = _incident(), new_vin()
    async with Car(mqtt_url, vin) as car:
        car.send("legal", incident)
        await car.ack()
        car.send("legal", incident, msg_id=2, msd=encode_msd(make_msd(vin, msg_id=2)))
        await car.ack()
    await _psap_record(lanes, incident, updates=1)
    assert await _oem_mentions(redis_url, lanes.settings.oem_db, incident, vin) == []


async def test_emergency_lane_intelligent_ecall_opens_case_and_hands_over(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """Intelligent eCall: a call-centre case with retention tags, then PSAP hand-over."""
    incident = _incident()
    extras = IntelligentExtras(2, 1, 56.0, "frontal", False, False, "severe", 0.31, True, "m")
    async with Car(mqtt_url, new_vin()) as car:
        car.send("intelligent", incident, extras=extras)
        ack = await car.ack()
    assert ack.route == "callcentre"
    case = await _record(redis_url, lanes.settings.oem_db, keys.case_key(incident))
    assert case["service"] == "ecall_intelligent"
    assert "retention_rule" not in case  # the tag is the one source of the rule
    assert "extras" not in case  # the extended data is kept apart, for its own 30 days
    extended = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    try:
        tag = await read_tag(extended, keys.case_key(incident))
        assert tag is not None and tag.rule.kind == "until_closed"
        extended_json = cast(bytes, await extended.get(keys.extended_key(incident)))
        assert json.loads(extended_json)["triage"] is True
        due = await extended.zscore("ret:due", keys.extended_key(incident))
        held = await extended.zscore("ret:held:ecall_intelligent", keys.case_key(incident))
        assert due is not None and held is not None
        assert due - held == 30 * 86_400.0  # 30 days from the case's writing
        assert await extended.zscore("ret:due", keys.case_key(incident)) is None  # open case
    finally:
        await extended.aclose()
    handed = await _psap_record(lanes, incident)
    assert (handed["desk"], handed["via"]) == ("psap-BE", "callcentre")


async def test_emergency_lane_duplicate_is_recorded_once_and_acked_twice(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """A QoS 1 redelivery of the same MSD is de-duplicated but still acknowledged."""
    incident = _incident()
    async with Car(mqtt_url, new_vin()) as car:
        first = car.send("legal", incident)
        car.publish_raw(f"tcu/v1/{car.vin}/ecall/legal", pack(first))
        acks = [await car.ack(), await car.ack()]
    assert [a.msg_id for a in acks] == [1, 1]
    record = await _psap_record(lanes, incident)
    assert len(json.loads(record["transmissions"])) == 1


async def test_emergency_lane_bad_input_is_counted_and_neighbours_survive(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """Garbage, a wrong kind, a broken MSD, an MSD over 140 bytes and a bad topic are
    counted; the eCall after them still arrives. (An eCall merely over its 1 KB budget is
    relayed and flagged: see the oversized-safety-call test. The bad topic comes from a
    certificate whose CN is no VIN: the broker lets a client write only its own topic.)"""
    oem = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    before = await oem.hget(keys.INGEST_COUNTERS, "rejected")
    incident = _incident()
    async with Car(mqtt_url, new_vin()) as car:
        topic = f"tcu/v1/{car.vin}/ecall/legal"
        car.publish_raw(topic, b"\xc1 not msgpack")
        car.publish_raw(topic, msgpack.packb({"v": 1, "k": "voice_call", "call": "x",
                                              "sent_ns": 1}))
        car.send("legal", _incident(), msd=b"\x03\x05garbage")
        oversized = msgpack.packb({"v": 1, "k": "ecall", "variant": "legal", "vin": car.vin,
                                   "incident": "big", "msg_id": 1, "msd": bytes(1200),
                                   "sent_ns": 1})
        car.publish_raw(topic, oversized)
        stranger = await connect_as(gmqtt.Client("stranger"), mqtt_url, "NOT-A-VIN")
        stranger.publish("tcu/v1/NOT-A-VIN/ecall/legal", b"\x80", qos=1)
        await asyncio.wait_for(stranger._persistent_storage.wait_empty(), 5)
        await disconnect(stranger)
        car.send("legal", incident)
        ack = await car.ack()
    assert ack.incident == incident
    await _psap_record(lanes, incident)
    deadline = time.monotonic() + 5
    while int(await oem.hget(keys.INGEST_COUNTERS, "rejected") or 0) < int(before or 0) + 5:
        assert time.monotonic() < deadline, "rejections were not counted"
        await asyncio.sleep(0.05)
    errors = {k.decode() for k in cast(list[bytes], await oem.hkeys(keys.ERROR_COUNTERS))}
    await oem.aclose()
    assert "payload:msgpack map" in errors
    assert any(e.startswith("k:") for e in errors)
    assert any(e.startswith("msd:at most 140 bytes") for e in errors)
    assert any(e.startswith(("topic:", "vin:")) for e in errors)


async def test_emergency_lane_voice_call_reaches_psap_without_data(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """A PSAP eCall arrives at the PSAP of its network country with no MSD at all."""
    call = _incident()
    async with Car(mqtt_url, new_vin()) as car:
        car.publish_raw(voice_topic("SI"), pack(VoiceCall(call, time.time_ns())))
        record = await _psap_record(lanes, call)
    assert record["desk"] == "psap-SI"
    assert record["kind"] == "voice"
    assert "msd" not in record
    assert "vin" not in record


async def test_emergency_lane_desk_restart_finds_pending_incidents(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """eCalls that arrive while the desks are down are waiting when they come back."""
    from backend.runtime.roles import run_desks

    await lanes.stop_role("desks")
    incident = _incident()
    async with Car(mqtt_url, new_vin()) as car:
        car.send("legal", incident)
        await car.ack()  # acknowledged: durably handed off though no desk is running
    psap = Redis.from_url(lanes.settings.psap_url, db=lanes.settings.psap_db)
    assert await psap.exists(keys.psap_incident_key(incident)) == 0
    await psap.aclose()
    lanes.start_role("desks", run_desks)
    record = await _psap_record(lanes, incident)
    assert record["desk"] == "psap-BE"


async def test_emergency_lane_desk_parks_an_unreadable_entry_and_goes_on(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """An intake entry a desk cannot read is parked in a dead-letter stream; the next passes."""
    psap = Redis.from_url(lanes.settings.psap_url, db=lanes.settings.psap_db)
    stream = keys.psap_stream("psap-BE")
    await psap.xadd(stream, {"kind": "ecall", "incident": "poison", "msg_id": 1,
                             "msd": b"\x03\x02\xff\xff", "sent_ns": 1})
    incident = _incident()
    async with Car(mqtt_url, new_vin()) as car:
        car.send("legal", incident)
        await car.ack()
    await _psap_record(lanes, incident)
    parked = cast(Entries, await psap.xrange(f"{stream}:dead"))
    await psap.aclose()
    assert any(fields[b"incident"] == b"poison" for _id, fields in parked)


async def test_emergency_lane_oversized_safety_call_is_relayed_and_flagged(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """An Intelligent eCall over its 1 KB budget is never dropped: acked, handed over, flagged."""
    incident = _incident()
    vin = new_vin()
    extras = IntelligentExtras(1, 1, 40.0, "frontal", False, False, "moderate", 0.1, False,
                               "m" * 1200)
    message = EcallMessage("intelligent", vin, incident, 1, encode_msd(make_msd(vin)),
                           time.time_ns(), "BE", extras)
    raw = msgpack.packb({"v": 1, "k": "ecall", **asdict(message)})
    assert len(raw) > ECALL_ENVELOPE_MAX
    async with Car(mqtt_url, vin) as car:
        car.publish_raw(ecall_topic(vin, "intelligent"), raw)
        ack = await car.ack()
    assert (ack.incident, ack.route) == (incident, "callcentre")
    await _record(redis_url, lanes.settings.oem_db, keys.case_key(incident))
    oem = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    try:
        usage = await usage_of(oem, vin, at=time.time())
        assert usage["ecall_intelligent"].flagged == {"message_over_budget": 1}
        assert usage["ecall_intelligent"].rejected == {}
    finally:
        await oem.aclose()


async def test_emergency_lane_callcentre_intake_keeps_nothing_once_recorded(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """The intake stream is a queue: the MSD lives on in the case (under its rule) only."""
    incident = _incident()
    async with Car(mqtt_url, new_vin()) as car:
        car.send("intelligent", incident)
        await car.ack()
    await _record(redis_url, lanes.settings.oem_db, keys.case_key(incident))
    oem = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    try:
        deadline = time.monotonic() + 5
        while True:
            entries = cast(Entries, await oem.xrange(keys.CALLCENTRE_STREAM))
            left = [f for _, f in entries if f.get(b"incident") == incident.encode()]
            if not left:
                break
            assert time.monotonic() < deadline, "the intake entry was never deleted"
            await asyncio.sleep(0.02)  # the desk deletes right after its XACK
    finally:
        await oem.aclose()


async def test_emergency_lane_incident_reused_by_another_car_cannot_take_it_over(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """A second car sending the first car's incident id (elsewhere, another country) does
    not move the record to its PSAP, and the genuine car's next message is taken as the
    update it is, not dropped as a 'duplicate'."""
    incident = _incident()
    async with Car(mqtt_url, new_vin()) as genuine, Car(mqtt_url, new_vin()) as other:
        genuine.send("legal", incident)
        assert (await genuine.ack()).route == "psap-BE"
        # The other car in Amsterdam, same incident id and messageIdentifier 2.
        other.send("legal", incident, msg_id=2, msd=encode_msd(
            make_msd(other.vin, msg_id=2, lat=52.37, lon=4.89)))
        await other.ack()
        genuine.send("legal", incident, msg_id=2)
        assert (await genuine.ack()).msg_id == 2
    record = await _psap_record(lanes, incident, updates=1)
    assert (record["desk"], record["vin"]) == ("psap-BE", genuine.vin)
    assert [t["msg_id"] for t in json.loads(record["transmissions"])] == [1, 2]
    psap = Redis.from_url(lanes.settings.psap_url, db=lanes.settings.psap_db)
    try:
        assert not await psap.zscore(keys.psap_index("psap-NL"), incident)
    finally:
        await psap.aclose()
