"""Desks apply a stream entry once: a second read of it changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import cast

import pytest
from redis.asyncio import Redis

from backend.emergency.desks import CallCentreDesk, PsapDesks
from backend.emergency.entries import EcallEntry
from backend.emergency.incidents import DeskStores, read_incident
from backend.emergency.redis_records import RedisCallCentreCases, RedisPsapIncidents
from backend.emergency.relay import psap_for
from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.streams import StreamGroups, StreamWriter
from backend.privacy import retention_store as retention
from backend.privacy.retention_store import read_tag
from protocols.envelope import EcallMessage
from protocols.errors import EnvelopeError
from protocols.msd.codec import encode_msd
from protocols.topics import EcallVariant
from tests.backend.support import make_msd, new_vin, own_database

DB = 12  # this module's own database: the tests read whole streams


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    async with own_database(redis_url, DB) as client:
        yield client


VIN = new_vin()


def _entry(variant: EcallVariant, incident: str, *, msg_id: int = 1,
           vin: str = VIN) -> dict[bytes, bytes]:
    msd = make_msd(vin, msg_id=msg_id)
    message = EcallMessage(variant, vin, incident, msg_id, encode_msd(msd),
                           time.time_ns(), "BE")
    fields = EcallEntry.of(message, msd, psap_for(msd, "BE"), time.time_ns()).to_fields()
    return {k.encode(): v if isinstance(v, bytes) else str(v).encode() for k, v in fields.items()}


def _psap_desks(redis: Redis, *, consumer: str = "c") -> PsapDesks:
    return PsapDesks(StreamGroups(redis), RedisPsapIncidents(redis), consumer=consumer,
                     counters=Counters(), desk_names=["psap-BE"])


async def test_desks_psap_record_applies_an_entry_once(redis: Redis) -> None:
    """Reading the same entry twice, or its copy under another id, leaves one transmission;
    the next messageIdentifier is a real update."""
    desks = _psap_desks(redis)
    incident = f"p-{uuid.uuid4().hex[:8]}"
    stream = keys.psap_stream("psap-BE")
    for entry_id in ("1-0", "1-0", "2-0"):
        await desks.record(stream, entry_id, _entry("legal", incident), time.time_ns())
    record = await redis.hgetall(keys.psap_incident_key(incident))
    assert [t["msg_id"] for t in json.loads(record[b"transmissions"])] == [1]
    assert record[b"updates"] == b"0"
    await desks.record(stream, "3-0", _entry("legal", incident, msg_id=2), time.time_ns())
    record = await redis.hgetall(keys.psap_incident_key(incident))
    assert [t["msg_id"] for t in json.loads(record[b"transmissions"])] == [1, 2]


async def test_desks_psap_record_concurrent_copies_apply_once(redis: Redis) -> None:
    """Two desks recording the same entry at the same moment leave one transmission."""
    desks = [_psap_desks(redis, consumer=f"c{i}") for i in range(2)]
    incident = f"q-{uuid.uuid4().hex[:8]}"
    fields = _entry("legal", incident)
    await asyncio.gather(*(d.record(keys.psap_stream("psap-BE"), "1-0", fields, time.time_ns())
                           for d in desks for _ in range(5)))
    raw = await redis.hget(keys.psap_incident_key(incident), "transmissions")
    assert raw is not None and len(json.loads(raw)) == 1


async def test_desks_callcentre_applies_once_and_hands_over_once(redis: Redis) -> None:
    """An Intelligent eCall read twice (Redis restarted before the XACK) opens one case
    with one transmission, and the PSAP stream holds one hand-over."""
    desk = CallCentreDesk(StreamGroups(redis), RedisCallCentreCases(redis),
                          StreamWriter(redis, dedup_ttl_s=60), consumer="c", counters=Counters())
    incident = f"i-{uuid.uuid4().hex[:8]}"
    fields = _entry("intelligent", incident)
    for entry_id in ("1-0", "1-0"):
        await desk.record(keys.CALLCENTRE_STREAM, entry_id, fields, time.time_ns())
    raw = await redis.hget(keys.case_key(incident), "transmissions")
    assert raw is not None and [t["msg_id"] for t in json.loads(raw)] == [1]
    handovers = cast(list[tuple[bytes, dict[bytes, bytes]]],
                     await redis.xrange(keys.psap_stream("psap-BE")))
    assert [f[b"incident"] for _, f in handovers] == [incident.encode()]


async def test_desks_psap_record_refuses_another_vehicle_reusing_an_incident(
        redis: Redis) -> None:
    """A second car sending the first car's incident id cannot move or merge its record."""
    desks = _psap_desks(redis)
    incident = f"v-{uuid.uuid4().hex[:8]}"
    stream = keys.psap_stream("psap-BE")
    first = _entry("legal", incident)
    await desks.record(stream, "1-0", first, time.time_ns())
    with pytest.raises(EnvelopeError, match="another vehicle") as refused:
        await desks.record(stream, "2-0", _entry("legal", incident, msg_id=2, vin=new_vin()),
                           time.time_ns())
    assert refused.value.field == "vin"
    record = await redis.hgetall(keys.psap_incident_key(incident))
    assert record[b"vin"] == VIN.encode()
    assert [t["msg_id"] for t in json.loads(record[b"transmissions"])] == [1]


def test_keys_dedup_is_bound_to_the_vehicle() -> None:
    """The same incident and messageIdentifier from two VINs are two messages."""
    assert keys.psap_dedup_key("A" * 17, "i", 1) != keys.psap_dedup_key("B" * 17, "i", 1)
    assert keys.oem_dedup_key("A" * 17, "i", 1) != keys.oem_dedup_key("B" * 17, "i", 1)


class _At:
    """A clock standing at one instant: the call centre's time of the call."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


async def test_desks_callcentre_voice_recording_is_deleted_on_its_day(redis: Redis) -> None:
    """ECALL-R7: the Intelligent eCall's voice recording is kept as a reference (no audio)
    for 24 hours from the call, then swept on its own rule while the case (until closed)
    stays; an update adds no second recording."""
    call = datetime(2026, 3, 1, 8, 30, tzinfo=UTC).timestamp()
    desk = CallCentreDesk(StreamGroups(redis), RedisCallCentreCases(redis),
                          StreamWriter(redis, dedup_ttl_s=60), consumer="c",
                          counters=Counters(), time_source=_At(call))
    incident = f"r-{uuid.uuid4().hex[:8]}"
    await desk.record(keys.CALLCENTRE_STREAM, "1-0", _entry("intelligent", incident),
                      time.time_ns())
    await desk.record(keys.CALLCENTRE_STREAM, "2-0", _entry("intelligent", incident, msg_id=2),
                      time.time_ns())
    voice = keys.voice_recording_key(incident)
    raw = await redis.get(voice)
    assert raw is not None and json.loads(raw) == {
        "reference": f"rec-{incident}", "incident": incident, "started_at": call, "audio": None}
    tag = await read_tag(redis, voice)
    assert tag is not None and (tag.service, tag.deadline) == ("ecall_intelligent_voice",
                                                               call + 24 * 3600)
    stores = DeskStores(oem=redis, psap=redis)
    shown = await read_incident(stores, "callcentre", incident)
    assert shown["voice_recording"]["reference"] == f"rec-{incident}"

    assert await retention.sweep(redis, now=call + 24 * 3600 - 1) == 0
    assert await redis.exists(voice)
    assert await retention.sweep(redis, now=call + 24 * 3600) == 1
    assert not await redis.exists(voice)
    assert await redis.exists(keys.case_key(incident))
    assert "voice_recording" not in await read_incident(stores, "callcentre", incident)
    rows = {r["service"]: r for r in await retention.report(redis, now=call + 24 * 3600)}
    assert (rows["ecall_intelligent_voice"]["held"],
            rows["ecall_intelligent_voice"]["deleted"]) == (0, 1)
    assert rows["ecall_intelligent"]["held"] == 1
