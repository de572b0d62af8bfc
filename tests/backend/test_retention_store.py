"""The retention store and sweeper in a real Redis: tags, deletion, audit, erasure, report.

Each test owns database ``DB`` and empties it first; the restart test runs on a private
Redis (``fresh_services``) that it restarts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from backend.privacy import retention_store as store
from backend.privacy.errors import (
    ErasureRefusedError,
    NeverStoredError,
    RetentionError,
    UnknownRecordError,
)
from backend.privacy.retention import Tag
from backend.privacy.retention_sweeper import sweep_forever
from cli.local_services import LocalServices, free_port
from protocols.catalogue_model import DAY, RetentionRule
from tests.backend.support import new_vin


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


DB = 7
T0 = _at(2026, 1, 1)
SIX_MONTHS_ON = _at(2026, 7, 1)  # six calendar months after T0
HOTLINE = RetentionRule(kind="fixed_window", trigger="data processed", window_s=28 * DAY,
                        erasable_on_request=True)
HV_WARN = RetentionRule(kind="fixed_window", trigger="reported incident", window_months=6)
HV_WARN_V1 = RetentionRule(kind="fixed_window", trigger="reported incident",
                           window_s=180 * DAY)  # as catalogue version 1 tagged it
LEARNING = RetentionRule(kind="inactivity_window", trigger="last new data",
                         window_months=12, idle_months=3, erasable_on_request=True)
TELESERVICE = RetentionRule(kind="until_closed", trigger="procedures completed")
DIGITAL_KEY = RetentionRule(kind="vehicle_lifetime", trigger="end of vehicle life")
KEYREAD = RetentionRule(kind="not_stated", trigger="not stated", erasable_on_request=True)
LEGAL_ECALL = RetentionRule(kind="never_stored", trigger="n/a")
AUDIT_FIELDS = {"id", "ref", "service", "record_type", "rule", "reason", "written_at",
                "deadline", "deleted_at"}


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, db=DB)
    await client.flushdb()
    yield client
    await client.aclose()


# redis-py types hset's ``mapping`` as Mapping[FieldT, EncodableT], invariant in its key,
# so it refuses a dict[str, str] that it accepts at run time: hence the two ignores below.
def _payload(vin: str) -> dict[str, str]:
    return {"vin": vin, "lat": "50.8467123", "lon": "4.3525987",
            "phone": "+32 470 12 34 56", "note": f"note-{uuid.uuid4().hex}"}


async def _write(oem: Redis, service: str, rule: RetentionRule, *, vin: str,
                 written_at: float = T0, indexes: Sequence[tuple[str, str]] = (),
                 payload: dict[str, str] | None = None) -> Tag:
    """Write a record and its tag in one MULTI, as a backend lane would."""
    key = f"test:{service}:{uuid.uuid4().hex[:12]}"
    async with oem.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=payload or _payload(vin))  # type: ignore[arg-type]
        written = store.tag(pipe, record_key=key, service=service, rule=rule, vin=vin,
                            written_at=written_at, indexes=indexes)
        await pipe.execute()
    return written


async def _exists(oem: Redis, tag: Tag) -> bool:
    return bool(await oem.exists(tag.record_key, store.meta_key(tag.record_key)))


async def test_retention_store_tag_is_written_with_the_record(oem: Redis) -> None:
    """The record and its tag land in the same transaction, with the rule's deadline."""
    vin = new_vin()
    written = await _write(oem, "customer_hotline", HOTLINE, vin=vin)
    assert await oem.hget(written.record_key, "vin") == vin.encode()
    stored = await store.read_tag(oem, written.record_key)
    assert stored == written
    assert await oem.zscore(store.DUE, written.record_key) == T0 + 28 * DAY
    assert await oem.zscore(store.held_key("customer_hotline"), written.record_key) == T0
    assert await oem.sismember(store.vin_key(vin), written.record_key)


async def test_retention_store_never_stored_writes_nothing(oem: Redis) -> None:
    """Legal eCall: tagging refuses, so the transaction holding the record never runs."""
    key = f"test:ecall_legal:{uuid.uuid4().hex}"
    with pytest.raises(NeverStoredError) as caught:
        async with oem.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=_payload(new_vin()))  # type: ignore[arg-type]
            store.tag(pipe, record_key=key, service="ecall_legal", rule=LEGAL_ECALL,
                      vin="", written_at=T0)
            await pipe.execute()
    assert caught.value.field == "service"
    assert await oem.dbsize() == 0


async def test_retention_store_tag_refuses_a_plain_client(oem: Redis) -> None:
    with pytest.raises(TypeError):
        # A plain client where a pipeline belongs, on purpose: the runtime check is under test.
        store.tag(oem, record_key="test:x", service="customer_hotline",  # type: ignore[arg-type]
                  rule=HOTLINE, vin="", written_at=T0)
    with pytest.raises(RetentionError) as caught:
        await store.tag_now(oem, record_key="ret:due", service="customer_hotline",
                            rule=HOTLINE, vin="", written_at=T0)
    assert caught.value.field == "record_key"


async def test_retention_store_sweep_deletes_exactly_the_due_records(oem: Redis) -> None:
    vin = new_vin()
    due = [await _write(oem, "customer_hotline", HOTLINE, vin=vin, written_at=T0 - d * DAY)
           for d in (28, 30)]
    kept = [
        await _write(oem, "customer_hotline", HOTLINE, vin=vin, written_at=T0 - 27 * DAY),
        await _write(oem, "hv_warn_call", HV_WARN, vin=vin, written_at=T0 - 100 * DAY),
        await _write(oem, "teleservice_call", TELESERVICE, vin=vin, written_at=T0 - 900 * DAY),
        await _write(oem, "rsu", DIGITAL_KEY, vin=vin, written_at=T0 - 900 * DAY),
        await _write(oem, "remote_keyread", KEYREAD, vin=vin, written_at=T0 - 900 * DAY),
    ]
    assert await store.sweep(oem, now=T0) == 2
    assert [await _exists(oem, t) for t in due] == [False, False]
    assert [await _exists(oem, t) for t in kept] == [True] * 5
    assert await oem.smembers(store.vin_key(vin)) == {t.record_key.encode() for t in kept}
    assert await store.sweep(oem, now=T0) == 0


async def test_retention_store_hv_warn_call_is_held_six_calendar_months(oem: Redis) -> None:
    """Tagged on 15 July: still held on 14 January, swept on 15 January (HV-R4, CONV-2)."""
    hv = await _write(oem, "hv_warn_call", HV_WARN, vin=new_vin(),
                      written_at=_at(2026, 7, 15, 9))
    assert await store.read_tag(oem, hv.record_key) == hv
    assert await oem.zscore(store.DUE, hv.record_key) == _at(2027, 1, 15, 9)
    assert await store.sweep(oem, now=_at(2027, 1, 14, 23, 59)) == 0
    assert await _exists(oem, hv)
    assert await store.sweep(oem, now=_at(2027, 1, 15, 9)) == 1
    assert not await _exists(oem, hv)


async def test_retention_store_reads_a_tag_stored_before_months(oem: Redis) -> None:
    """A tag with a seconds window and no month fields keeps its rule and its deadline."""
    old = await _write(oem, "hv_warn_call", HV_WARN_V1, vin=new_vin(),
                       written_at=_at(2026, 7, 15))
    await oem.hdel(store.meta_key(old.record_key), "window_months", "idle_months")
    stored = await store.read_tag(oem, old.record_key)
    assert stored == old and stored.deadline == _at(2027, 1, 11)
    assert await store.sweep(oem, now=_at(2027, 1, 10)) == 0
    assert await store.sweep(oem, now=_at(2027, 1, 11)) == 1
    assert not await _exists(oem, old)


async def test_retention_store_sweep_cleans_the_index_containers(oem: Redis) -> None:
    """A record listed in a zset, set, hash and list disappears from all four."""
    containers = {"zset": "test:idx:zset", "set": "test:idx:set", "hash": "test:idx:hash",
                  "list": "test:idx:list"}
    written = await _write(oem, "customer_hotline", HOTLINE, vin=new_vin(),
                           indexes=[(c, "case-1") for c in containers.values()])
    for member in ("case-1", "case-2"):
        await oem.zadd(containers["zset"], {member: T0})
        await oem.sadd(containers["set"], member)
        await oem.hset(containers["hash"], member, "x")
        await oem.rpush(containers["list"], member)
    await oem.rpush(containers["list"], "case-1")
    assert await store.sweep(oem, now=T0 + 28 * DAY) == 1
    assert not await _exists(oem, written)
    assert await oem.zrange(containers["zset"], 0, -1) == [b"case-2"]
    assert await oem.smembers(containers["set"]) == {b"case-2"}
    assert await oem.hkeys(containers["hash"]) == [b"case-2"]
    assert await oem.lrange(containers["list"], 0, -1) == [b"case-2"]


async def test_retention_store_audit_names_the_deletion_not_the_content(oem: Redis) -> None:
    vin = new_vin()
    payload = _payload(vin)
    written = await _write(oem, "customer_hotline", HOTLINE, vin=vin, payload=payload,
                           indexes=[("test:partner:cases", "case-77")])
    await store.sweep(oem, now=T0 + 40 * DAY)
    [entry] = await store.audit(oem)
    assert set(entry) == AUDIT_FIELDS
    assert (entry["ref"], entry["service"], entry["record_type"], entry["rule"],
            entry["reason"]) == (written.ref, "customer_hotline", "customer_hotline",
                                 "fixed_window", "deadline")
    assert float(entry["deadline"]) == T0 + 28 * DAY
    assert float(entry["deleted_at"]) == T0 + 40 * DAY
    assert float(entry["written_at"]) == T0
    text = " ".join(entry.values())
    for secret in [*payload.values(), vin, written.record_key, "case-77"]:
        assert secret not in text


async def test_retention_store_two_sweepers_delete_and_audit_each_record_once(
        oem: Redis) -> None:
    """Under load, two racing sweepers in batches: every record deleted and audited once."""
    vins = [new_vin() for _ in range(20)]
    async with oem.pipeline(transaction=True) as pipe:
        for i in range(1_200):
            key = f"test:load:{i}"
            pipe.hset(key, "vin", vins[i % 20])
            store.tag(pipe, record_key=key, service="customer_hotline", rule=HOTLINE,
                      vin=vins[i % 20], written_at=T0 + i)
        await pipe.execute()
    later = await _write(oem, "customer_hotline", HOTLINE, vin=vins[0], written_at=T0 + DAY)
    now = T0 + 28 * DAY + 1_199
    counts = await asyncio.gather(store.sweep(oem, now=now, batch=100),
                                  store.sweep(oem, now=now, batch=100))
    assert sum(counts) == 1_200
    entries = await store.audit(oem, count=5_000)
    assert len(entries) == 1_200
    assert len({e["ref"] for e in entries}) == 1_200
    assert await oem.hget(store.DELETED, "customer_hotline") == b"1200"
    assert await oem.exists(*(f"test:load:{i}" for i in range(1_200))) == 0
    assert await _exists(oem, later)
    assert await oem.zcard(store.DUE) == 1


async def test_retention_store_until_closed_is_due_from_its_closure(oem: Redis) -> None:
    case = await _write(oem, "teleservice_call", TELESERVICE, vin=new_vin())
    assert await store.sweep(oem, now=T0 + 3_000 * DAY) == 0
    assert await store.close(oem, case.record_key, closed_at=T0 + 3_000 * DAY) == (
        T0 + 3_000 * DAY)
    assert await store.close(oem, case.record_key, closed_at=T0 + 3_001 * DAY) == (
        T0 + 3_000 * DAY)
    assert await store.sweep(oem, now=T0 + 3_000 * DAY) == 1
    assert not await _exists(oem, case)
    with pytest.raises(UnknownRecordError):
        await store.close(oem, case.record_key, closed_at=T0 + 3_002 * DAY)


async def test_retention_store_close_refuses_another_rule(oem: Redis) -> None:
    written = await _write(oem, "customer_hotline", HOTLINE, vin=new_vin())
    with pytest.raises(RetentionError) as caught:
        await store.close(oem, written.record_key, closed_at=T0 + DAY)
    assert caught.value.rule == "close: until_closed only"
    assert await oem.zscore(store.DUE, written.record_key) == T0 + 28 * DAY


async def test_retention_store_touch_moves_the_inactivity_deadline(oem: Redis) -> None:
    nav = await _write(oem, "learning_navigation", LEARNING, vin=new_vin())
    assert await store.read_tag(oem, nav.record_key) == nav
    assert await store.touch(oem, nav.record_key, at=_at(2026, 3, 1)) == _at(2026, 6, 1)
    assert await store.sweep(oem, now=_at(2026, 5, 31)) == 0
    assert await _exists(oem, nav)
    assert await store.sweep(oem, now=_at(2026, 6, 1)) == 1
    assert not await _exists(oem, nav)


async def test_retention_store_end_of_vehicle_life_makes_its_records_due(oem: Redis) -> None:
    vin, other = new_vin(), new_vin()
    key = await _write(oem, "digital_key", DIGITAL_KEY, vin=vin)
    hotline = await _write(oem, "customer_hotline", HOTLINE, vin=vin)
    others_key = await _write(oem, "digital_key", DIGITAL_KEY, vin=other)
    assert await store.end_of_vehicle_life(oem, vin, at=T0 + 10 * DAY) == 1
    assert await store.sweep(oem, now=T0 + 10 * DAY) == 1
    assert not await _exists(oem, key)
    assert await _exists(oem, hotline)
    assert await _exists(oem, others_key)
    assert await oem.zscore(store.DUE, hotline.record_key) == T0 + 28 * DAY


async def test_retention_store_erasure_on_request_where_allowed(oem: Redis) -> None:
    vin = new_vin()
    hotline = await _write(oem, "customer_hotline", HOTLINE, vin=vin)
    keyread = await _write(oem, "remote_keyread", KEYREAD, vin=vin)
    hv = await _write(oem, "hv_warn_call", HV_WARN, vin=vin)
    others = await _write(oem, "customer_hotline", HOTLINE, vin=new_vin())
    allowed = {"customer_hotline", "remote_keyread"}
    done = await store.erase(oem, vin=vin, now=T0 + DAY, rule_allows=allowed.__contains__)
    assert (done.erased, done.refused) == (2, {"hv_warn_call": "fixed_window"})
    assert [await _exists(oem, t) for t in (hotline, keyread, hv, others)] == [
        False, False, True, True]
    assert {(e["reason"], e["service"]) for e in await store.audit(oem)} == {
        ("on_request", "customer_hotline"), ("on_request", "remote_keyread")}
    assert await oem.hget(store.ERASED, "customer_hotline") == b"1"
    assert await oem.hget(store.DELETED, "customer_hotline") is None


async def test_retention_store_erasure_of_a_refusing_service_raises(oem: Redis) -> None:
    vin = new_vin()
    hv = await _write(oem, "hv_warn_call", HV_WARN, vin=vin)
    with pytest.raises(ErasureRefusedError) as caught:
        await store.erase(oem, vin=vin, service="hv_warn_call", now=T0 + DAY)
    assert (caught.value.service, caught.value.kind, caught.value.field) == (
        "hv_warn_call", "fixed_window", "service")
    assert "hv_warn_call" in str(caught.value)
    assert await _exists(oem, hv)
    assert await store.audit(oem) == []
    with pytest.raises(ErasureRefusedError):
        await store.erase(oem, vin=new_vin(), service="hv_warn_call", now=T0,
                          rule_allows=lambda _service: False)


async def test_retention_store_report_figures(oem: Redis) -> None:
    vin = new_vin()
    for days in (40, 30, 10):
        await _write(oem, "customer_hotline", HOTLINE, vin=vin, written_at=T0 - days * DAY)
    await _write(oem, "teleservice_call", TELESERVICE, vin=vin, written_at=T0 - 5 * DAY)
    before = {line["service"]: line for line in await store.report(oem, now=T0)}
    assert before["customer_hotline"] == {
        "service": "customer_hotline", "rule": "fixed_window", "held": 3, "pending": 0,
        "oldest_written_at": T0 - 40 * DAY, "next_due": T0 - 12 * DAY, "deleted": 0,
        "erased": 0, "overdue": 2}
    assert before["teleservice_call"] == {
        "service": "teleservice_call", "rule": "until_closed", "held": 1, "pending": 1,
        "oldest_written_at": T0 - 5 * DAY, "next_due": None, "deleted": 0, "erased": 0,
        "overdue": 0}
    assert (await store.report(oem, now=T0, grace_s=5 * DAY))[0]["overdue"] == 1
    assert await store.sweep(oem, now=T0) == 2
    after = {line["service"]: line for line in await store.report(oem, now=T0)}
    assert after["customer_hotline"] | {"held": 0} == {
        "service": "customer_hotline", "rule": "fixed_window", "held": 0, "pending": 0,
        "oldest_written_at": T0 - 10 * DAY, "next_due": T0 + 18 * DAY, "deleted": 2,
        "erased": 0, "overdue": 0}
    assert after["customer_hotline"]["held"] == 1
    assert await store.next_deadline(oem) == T0 + 18 * DAY
    assert sum(line["overdue"] for line in after.values()) == 0


async def test_retention_store_deletes_on_time_after_a_redis_restart(
        fresh_services: LocalServices) -> None:
    """Tags and the due queue survive a restart (AOF); the lost script cache is refilled."""
    url = fresh_services.urls.redis_url
    oem = Redis.from_url(url)
    try:
        vin = new_vin()
        first = await _write(oem, "customer_hotline", HOTLINE, vin=vin)
        second = await _write(oem, "customer_hotline", HOTLINE, vin=vin, written_at=T0 + DAY)
        case = await _write(oem, "teleservice_call", TELESERVICE, vin=vin)
        assert await store.sweep(oem, now=T0 + 28 * DAY) == 1
        await asyncio.to_thread(fresh_services.restart_redis)
        await oem.aclose()  # its connections died with the old server
        oem = Redis.from_url(url)
        assert await _exists(oem, second)
        assert await store.sweep(oem, now=T0 + 28 * DAY) == 0
        assert await store.sweep(oem, now=T0 + 29 * DAY) == 1
        assert not await _exists(oem, second)
        assert await store.close(oem, case.record_key, closed_at=T0 + 30 * DAY) == T0 + 30 * DAY
        assert await store.sweep(oem, now=T0 + 30 * DAY) == 1
        assert [e["ref"] for e in await store.audit(oem)] == [case.ref, second.ref, first.ref]
    finally:
        await oem.aclose()


class SteppedClock:
    """A virtual clock the test moves; counts reads so the test knows a round has run."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.reads = 0
        self._read = asyncio.Event()

    def now(self) -> float:
        self.reads += 1
        self._read.set()
        return self.at

    async def rounds(self, count: int) -> None:
        """Wait until ``count`` more rounds have started (each reads the clock once)."""
        target = self.reads + count
        while self.reads < target:
            self._read.clear()
            await asyncio.wait_for(self._read.wait(), 5)


async def test_retention_sweeper_deletes_in_virtual_time(oem: Redis) -> None:
    """Six virtual months pass in one step; the next round deletes the HV Warn Call."""
    hv = await _write(oem, "hv_warn_call", HV_WARN, vin=new_vin())
    clock = SteppedClock(T0)
    stop = asyncio.Event()
    task = asyncio.create_task(sweep_forever(oem, clock, stop, interval_s=0.001))
    await clock.rounds(2)  # the first round has finished at T0
    assert await _exists(oem, hv)
    clock.at = SIX_MONTHS_ON
    await clock.rounds(2)  # a whole round at the new time has finished
    assert not await _exists(oem, hv)
    stop.set()
    assert await asyncio.wait_for(task, 5) == 1


async def test_retention_sweeper_keeps_deleting_across_a_redis_restart(
        fresh_services: LocalServices) -> None:
    """The running sweeper loses a round or two to the restart, then deletes on time."""
    oem = Redis.from_url(fresh_services.urls.redis_url)
    hv = await _write(oem, "hv_warn_call", HV_WARN, vin=new_vin())
    clock = SteppedClock(T0)
    stop = asyncio.Event()
    task = asyncio.create_task(sweep_forever(oem, clock, stop, interval_s=0.001))
    try:
        await clock.rounds(2)
        await asyncio.to_thread(fresh_services.restart_redis)
        probe = Redis.from_url(fresh_services.urls.redis_url)  # the test's own connection
        assert await _exists(probe, hv)
        clock.at = SIX_MONTHS_ON
        for _ in range(50):  # rounds, not time: each round either fails or sweeps
            await clock.rounds(2)
            if task.done() or not await _exists(probe, hv):
                break
        assert not task.done()
        assert not await _exists(probe, hv)
        await probe.aclose()
    finally:
        stop.set()
        total = await asyncio.wait_for(task, 5)
        await oem.aclose()
    assert total == 1


async def test_retention_sweeper_survives_redis_errors() -> None:
    """No Redis at all: every round fails, the loop keeps going and stops when asked."""
    down = Redis.from_url(f"redis://127.0.0.1:{free_port()}", socket_connect_timeout=1)
    clock = SteppedClock(T0)
    stop = asyncio.Event()
    task = asyncio.create_task(sweep_forever(down, clock, stop, interval_s=0.001))
    try:
        await clock.rounds(3)
        assert not task.done()
    finally:
        stop.set()
        total = await asyncio.wait_for(task, 5)
        await down.aclose()
    assert total == 0
