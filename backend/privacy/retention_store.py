"""Retention tags, deadlines, deletion, erasure, audit and report in the OEM database.

Keys (OEM database)::

    ret:meta:{record_key}  hash    the record's tag: service, rule snapshot, vin, times,
                                   deadline, audit ref, index memberships (JSON)
    ret:due                zset    record_key -> deadline, every service: the sweep queue
    ret:due:{service}      zset    record_key -> deadline, one service: report figures
    ret:held:{service}     zset    record_key -> written_at, every record still held
    ret:vin:{vin}          set     record keys of one car: end of life, erasure
    ret:services           set     every service ever tagged: the report's rows
    ret:rules              hash    service -> rule kind, as last tagged
    ret:deleted            hash    service -> deletions at the deadline
    ret:erased             hash    service -> erasures on request
    ret:audit              stream  one entry per deletion, holding none of its content

Nothing here scans: the sweeper reads ``ret:due`` by score in batches, the report
reads counts and the first member of per-service sorted sets, and erasure and end of
life read the car's own set. A record is deleted by one Lua script that deletes it,
removes it from the containers that list it, drops its tag and writes the audit entry,
so a deletion is done and audited exactly once even when two sweepers race. The
scripts touch keys they learn from the tag (index containers, per-service sets), which
a single Redis instance allows; the backend runs on one instance (no cluster).

State lives only in Redis (AOF in every deployment here), so a restarted sweeper or
Redis loses nothing: what was due before is still due, by score, after.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.typing import EncodableT

from backend.infra.redis_once import under_watch
from backend.privacy.errors import ErasureRefusedError, RetentionError, UnknownRecordError
from backend.privacy.retention import (
    ServiceReport,
    Tag,
    closed,
    life_ended,
    refuse_never_stored,
    service_report,
    touched,
)
from backend.privacy.retention import deadline as due_at
from protocols.catalogue_model import RetentionRule

PREFIX: Final = "ret:"
DUE: Final = "ret:due"
AUDIT: Final = "ret:audit"
DELETED: Final = "ret:deleted"
ERASED: Final = "ret:erased"
SERVICES: Final = "ret:services"
RULES: Final = "ret:rules"
META_PREFIX: Final = "ret:meta:"
SERVICE_DUE_PREFIX: Final = "ret:due:"
HELD_PREFIX: Final = "ret:held:"
VIN_PREFIX: Final = "ret:vin:"
SWEEP_BATCH: Final = 500
_WATCH_TRIES: Final = 8
_SNAKE: Final = re.compile(r"[a-z][a-z0-9_]*\Z")
Reason = Literal["deadline", "on_request"]

# KEYS: meta, record, ret:due, ret:audit, counter hash
# ARGV: record key, now, reason, per-service due prefix, held prefix, vin prefix
_DELETE_LUA: Final = """
local meta = redis.call('HGETALL', KEYS[1])
if #meta == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
local m = {}
for i = 1, #meta, 2 do m[meta[i]] = meta[i + 1] end
local due = tonumber(m['deadline'] or '')
if ARGV[3] == 'deadline' then
  if due == nil then
    redis.call('ZREM', KEYS[3], ARGV[1])
    return 0
  end
  if due > tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[3], m['deadline'], ARGV[1])
    return 0
  end
end
redis.call('DEL', KEYS[2])
for _, pair in ipairs(cjson.decode(m['indexes'] or '[]')) do
  local container, member = pair[1], pair[2]
  local kind = redis.call('TYPE', container)['ok']
  if kind == 'zset' then redis.call('ZREM', container, member)
  elseif kind == 'set' then redis.call('SREM', container, member)
  elseif kind == 'hash' then redis.call('HDEL', container, member)
  elseif kind == 'list' then redis.call('LREM', container, 0, member)
  end
end
local service = m['service'] or ''
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', ARGV[4] .. service, ARGV[1])
redis.call('ZREM', ARGV[5] .. service, ARGV[1])
if (m['vin'] or '') ~= '' then redis.call('SREM', ARGV[6] .. m['vin'], ARGV[1]) end
redis.call('DEL', KEYS[1])
redis.call('XADD', KEYS[4], '*', 'ref', m['ref'] or '', 'service', service,
  'record_type', m['record_type'] or '', 'rule', m['rule'] or '', 'reason', ARGV[3],
  'written_at', m['written_at'] or '', 'deadline', m['deadline'] or '',
  'deleted_at', ARGV[2])
redis.call('HINCRBY', KEYS[5], service, 1)
return 1
"""


def meta_key(record_key: str) -> str:
    return f"{META_PREFIX}{record_key}"


def service_due_key(service: str) -> str:
    return f"{SERVICE_DUE_PREFIX}{service}"


def held_key(service: str) -> str:
    return f"{HELD_PREFIX}{service}"


def vin_key(vin: str) -> str:
    return f"{VIN_PREFIX}{vin}"


@dataclass(frozen=True, slots=True)
class Erasure:
    """The outcome of an erasure request: how many records went, which services stayed.

    ``refused`` maps a service whose rule does not allow erasure on request to its rule
    kind; its records are kept until their own deadline.
    """

    erased: int
    refused: dict[str, str] = field(default_factory=dict)


# --- encoding ---------------------------------------------------------------------------

def _num(value: float | None) -> str:
    return "" if value is None else repr(value)


def _float(raw: dict[str, str], name: str) -> float | None:
    text = raw.get(name, "")
    return float(text) if text else None


def _months(raw: dict[str, str], name: str) -> int | None:
    """A calendar-month field; absent in tags written before windows counted months, whose
    seconds fields still give their deadline."""
    text = raw.get(name, "")
    return int(text) if text else None


def _encode(tag: Tag, record_type: str) -> dict[EncodableT, EncodableT]:
    rule = tag.rule
    return {
        "service": tag.service, "record_type": record_type, "rule": rule.kind,
        "trigger": rule.trigger, "window_s": _num(rule.window_s),
        "window_months": _num(rule.window_months), "idle_s": _num(rule.idle_s),
        "idle_months": _num(rule.idle_months), "close_window_s": repr(rule.close_window_s),
        "erasable": "1" if rule.erasable_on_request else "0", "vin": tag.vin,
        "written_at": repr(tag.written_at), "ref": tag.ref,
        "indexes": json.dumps([list(pair) for pair in tag.indexes]),
        **_times(tag),
    }


def _times(tag: Tag) -> dict[EncodableT, EncodableT]:
    """The fields a reschedule rewrites; ``deadline`` is what the delete script reads."""
    return {"closed_at": _num(tag.closed_at), "last_data_at": _num(tag.last_data_at),
            "life_ended_at": _num(tag.life_ended_at), "deadline": _num(tag.deadline)}


def _decode(record_key: str, raw_bytes: dict[bytes, bytes]) -> Tag:
    raw = {k.decode(): v.decode() for k, v in raw_bytes.items()}
    rule = RetentionRule(
        kind=raw["rule"], trigger=raw.get("trigger", ""),  # type: ignore[arg-type]
        window_s=_float(raw, "window_s"), window_months=_months(raw, "window_months"),
        idle_s=_float(raw, "idle_s"), idle_months=_months(raw, "idle_months"),
        close_window_s=_float(raw, "close_window_s") or 0.0,
        erasable_on_request=raw.get("erasable") == "1")
    return Tag(record_key=record_key, service=raw["service"], rule=rule,
               vin=raw.get("vin", ""), written_at=float(raw["written_at"]),
               ref=raw.get("ref", ""),
               indexes=tuple((c, m) for c, m in json.loads(raw.get("indexes", "[]"))),
               closed_at=_float(raw, "closed_at"), last_data_at=_float(raw, "last_data_at"),
               life_ended_at=_float(raw, "life_ended_at"))


# --- tagging ----------------------------------------------------------------------------

def _check_key(name: str, value: str) -> None:
    if not value or value.startswith(PREFIX):
        raise RetentionError(f"{name} {value!r} is empty or inside the retention keys",
                             field=name, rule=f"a non-empty key outside {PREFIX}*")


def _check_snake(name: str, value: str) -> None:
    if not _SNAKE.match(value):
        raise RetentionError(f"{name} {value!r} is not a snake_case catalogue key",
                             field=name, rule="snake_case key")


def _check_indexes(record_key: str, indexes: Iterable[tuple[str, str]]) -> None:
    for container, member in indexes:
        _check_key("indexes", container)
        if container == record_key or not member:
            raise RetentionError(f"index ({container!r}, {member!r}) is not another "
                                 "container with a member", field="indexes",
                                 rule="(container key, non-empty member) of another key")


def _queue_deadline(pipe: Pipeline, tag: Tag) -> None:
    due = tag.deadline
    key = tag.record_key
    if due is None:
        pipe.zrem(DUE, key)
        pipe.zrem(service_due_key(tag.service), key)
    else:
        pipe.zadd(DUE, {key: due})
        pipe.zadd(service_due_key(tag.service), {key: due})


def tag(pipe: Pipeline, *, record_key: str, service: str, rule: RetentionRule, vin: str,
        written_at: float, indexes: Sequence[tuple[str, str]] = (),
        record_type: str | None = None) -> Tag:
    """Queue the tag of a record on the caller's pipeline, next to the record's own write.

    Called inside the caller's MULTI, the record and its tag are stored together or not
    at all. Checks run before anything is queued: a ``never_stored`` service raises
    ``NeverStoredError``, and the caller's pipeline, left without ``execute``, writes
    nothing of the record either. Tag a record once, when it is first written.
    ``indexes`` are the (container, member) pairs that list the record elsewhere (a
    partner's zset of case ids, say); they are cleaned when the record is deleted.
    ``record_type`` (snake_case, default the service) is what the audit calls the record.
    """
    if not isinstance(pipe, Pipeline):
        raise TypeError("tag() queues on a redis.asyncio Pipeline; use tag_now() on a client")
    refuse_never_stored(rule, service=service)
    _check_key("record_key", record_key)
    _check_snake("service", service)
    _check_snake("record_type", record_type or service)
    pairs = tuple((str(c), str(m)) for c, m in indexes)
    _check_indexes(record_key, pairs)
    new = Tag(record_key=record_key, service=service, rule=rule, vin=vin,
              written_at=written_at, ref=secrets.token_hex(8), indexes=pairs)
    due_at(rule, written_at=written_at)  # validates written_at before anything is queued
    pipe.hset(meta_key(record_key), mapping=_encode(new, record_type or service))
    pipe.zadd(held_key(service), {record_key: written_at})
    pipe.sadd(SERVICES, service)
    pipe.hset(RULES, service, rule.kind)
    if vin:
        pipe.sadd(vin_key(vin), record_key)
    _queue_deadline(pipe, new)
    return new


async def tag_now(oem: Redis, *, record_key: str, service: str, rule: RetentionRule,
                  vin: str, written_at: float, indexes: Sequence[tuple[str, str]] = (),
                  record_type: str | None = None) -> Tag:
    """``tag`` in a transaction of its own, for a record already written."""
    async with oem.pipeline(transaction=True) as pipe:
        new = tag(pipe, record_key=record_key, service=service, rule=rule, vin=vin,
                  written_at=written_at, indexes=indexes, record_type=record_type)
        await pipe.execute()
    return new


async def read_tag(oem: Redis, record_key: str) -> Tag | None:
    """The record's tag, or None once it is deleted (or was never tagged)."""
    raw = cast(dict[bytes, bytes], await oem.hgetall(meta_key(record_key)))
    return _decode(record_key, raw) if raw else None


async def rule_kinds(oem: Redis, record_keys: Sequence[str]) -> list[str | None]:
    """The rule kind each record is kept under, read from its tag in one round trip
    (None for a record without one): what a view shows as the record's rule."""
    if not record_keys:
        return []
    async with oem.pipeline(transaction=False) as pipe:
        for record_key in record_keys:
            pipe.hget(meta_key(record_key), "rule")
        kinds = cast(list[bytes | None], await pipe.execute())
    return [None if kind is None else kind.decode() for kind in kinds]


# --- moving deadlines -------------------------------------------------------------------

async def _reschedule(oem: Redis, record_key: str, step: Callable[[Tag], Tag]) -> Tag:
    """Apply ``step`` to the stored tag under WATCH, so a racing sweep or step wins cleanly."""
    key = meta_key(record_key)

    async def body(pipe: Pipeline) -> Tag:
        raw = cast(dict[bytes, bytes], await pipe.hgetall(key))
        if not raw:
            raise UnknownRecordError(f"{record_key!r} is not tagged or already deleted",
                                     field="record_key", rule="a tagged record")
        current = _decode(record_key, raw)
        moved = step(current)
        if moved == current:
            return current
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.hset(key, mapping=_times(moved))
        _queue_deadline(pipe, moved)
        await pipe.execute()
        return moved

    return await under_watch(oem, key, body, tries=_WATCH_TRIES, give_up=lambda: RetentionError(
        f"{record_key!r} kept changing; gave up after {_WATCH_TRIES} tries",
        field="record_key", rule="settles within a few tries"))


async def close(oem: Redis, record_key: str, *, closed_at: float) -> float | None:
    """All procedures of an ``until_closed`` record are completed: start its deadline."""
    moved = await _reschedule(oem, record_key, lambda t: closed(t, at=closed_at))
    return moved.deadline


async def touch(oem: Redis, record_key: str, *, at: float) -> float | None:
    """New data for an ``inactivity_window`` record: push its idle deadline to ``at``."""
    moved = await _reschedule(oem, record_key, lambda t: touched(t, at=at))
    return moved.deadline


async def end_of_vehicle_life(oem: Redis, vin: str, *, at: float) -> int:
    """The car's life ended at ``at``: its ``vehicle_lifetime`` records fall due then.

    Reads only the car's own set. Returns how many records got (or moved to) ``at``.
    """
    members = cast(set[bytes], await oem.smembers(vin_key(vin)))
    moved = 0
    for raw_key in sorted(members):
        record_key = raw_key.decode()
        before = await read_tag(oem, record_key)
        if before is None or before.rule.kind != "vehicle_lifetime":
            continue
        try:
            after = await _reschedule(oem, record_key, lambda t: life_ended(t, at=at))
        except UnknownRecordError:
            continue  # deleted meanwhile
        moved += after.life_ended_at != before.life_ended_at
    return moved


# --- deleting ---------------------------------------------------------------------------

async def _delete_each(oem: Redis, record_keys: Sequence[str], *, now: float,
                       reason: Reason) -> int:
    """Run the delete script once per record, all in one round trip; count deletions."""
    if not record_keys:
        return 0
    script = oem.register_script(_DELETE_LUA)
    counter = DELETED if reason == "deadline" else ERASED
    async with oem.pipeline(transaction=False) as pipe:
        for record_key in record_keys:
            await script(keys=[meta_key(record_key), record_key, DUE, AUDIT, counter],
                         args=[record_key, repr(now), reason, SERVICE_DUE_PREFIX,
                               HELD_PREFIX, VIN_PREFIX], client=pipe)
        results = await pipe.execute()
    return sum(int(r) for r in results)


async def delete_due(oem: Redis, record_keys: Sequence[str], *, now: float) -> int:
    """Delete those of ``record_keys`` whose deadline is at or before ``now``, as the
    sweeper would, for a store that has just set a deadline of now and should not leave
    the record to the sweeper's next round. Returns how many went."""
    return await _delete_each(oem, record_keys, now=now, reason="deadline")


async def sweep(oem: Redis, *, now: float, batch: int = SWEEP_BATCH) -> int:
    """Delete every record whose deadline is at or before ``now``; return how many.

    Reads ``ret:due`` by score, ``batch`` at a time, never scanning. Every record read
    leaves the due range (deleted, or its stale entry dropped or re-scored), so the loop
    ends; a record another sweeper took first counts there, not here.
    """
    if batch < 1:
        raise RetentionError(f"batch {batch} is below 1", field="batch", rule="batch >= 1")
    deleted = 0
    while True:
        raw = cast(list[bytes], await oem.zrangebyscore(DUE, "-inf", repr(now),
                                                        start=0, num=batch))
        if not raw:
            return deleted
        deleted += await _delete_each(oem, [k.decode() for k in raw], now=now,
                                      reason="deadline")
        if len(raw) < batch:
            return deleted


async def next_deadline(oem: Redis) -> float | None:
    """The earliest deadline of any record, or None when nothing is due at all."""
    first = cast(list[tuple[bytes, float]], await oem.zrange(DUE, 0, 0, withscores=True))
    return first[0][1] if first else None


# --- erasure on request -----------------------------------------------------------------

async def _tags_of_vin(oem: Redis, vin: str) -> list[Tag]:
    members = sorted(k.decode() for k in cast(set[bytes], await oem.smembers(vin_key(vin))))
    async with oem.pipeline(transaction=False) as pipe:
        for record_key in members:
            pipe.hgetall(meta_key(record_key))
        raws = cast(list[dict[bytes, bytes]], await pipe.execute())
    return [_decode(k, raw) for k, raw in zip(members, raws, strict=True) if raw]


def _refusals(tags: Sequence[Tag], rule_allows: Callable[[str], bool] | None
              ) -> dict[str, str]:
    """Services among ``tags`` that may not be erased on request, with their rule kind."""
    refused: dict[str, str] = {}
    for t in tags:
        allowed = rule_allows(t.service) if rule_allows else t.rule.erasable_on_request
        if not allowed:
            refused[t.service] = t.rule.kind
    return refused


async def erase(oem: Redis, *, vin: str, now: float, service: str | None = None,
                rule_allows: Callable[[str], bool] | None = None) -> Erasure:
    """Erase a car's records on request, where the documents allow it (§2a "of op
    verzoek eerder", catalogue rows erasable "on request", PLAT-R1); each erasure is
    audited as ``on_request``.

    ``rule_allows(service)`` decides from the catalogue; without it, the rule as tagged
    decides. Asking for one ``service`` that may not be erased raises
    ``ErasureRefusedError`` and erases nothing; asking for all erases what may go and
    lists the rest in ``refused``, kept until their own deadline.
    """
    tags = [t for t in await _tags_of_vin(oem, vin) if service in (None, t.service)]
    refused = _refusals(tags, rule_allows)
    if service is not None and service not in refused and rule_allows is not None \
            and not rule_allows(service):  # refused even when nothing of it is held
        kind = cast(bytes | None, await oem.hget(RULES, service))
        refused[service] = kind.decode() if kind else "unknown"
    if service is not None and refused:
        raise ErasureRefusedError(f"{service!r} ({refused[service]}) may not be erased on "
                                  "request", service=service, kind=refused[service])
    chosen = [t.record_key for t in tags if t.service not in refused]
    return Erasure(erased=await _delete_each(oem, chosen, now=now, reason="on_request"),
                   refused=refused)


# --- report and audit -------------------------------------------------------------------

def _first_score(raw: object) -> float | None:
    pairs = cast(list[tuple[bytes, float]], raw)
    return pairs[0][1] if pairs else None


def _int(raw: object) -> int:
    return int(cast(bytes, raw)) if raw else 0


async def report(oem: Redis, *, now: float, grace_s: float = 0.0) -> list[dict[str, Any]]:
    """Per service: records held and pending, oldest, next deadline, deletions, overdue.

    One round trip of counts and first members, whatever the number of records.
    ``overdue`` counts deadlines before ``now - grace_s``; after a sweep at ``now`` it is
    0 with the default grace. Services are listed by key.
    """
    services = sorted(s.decode() for s in cast(set[bytes], await oem.smembers(SERVICES)))
    async with oem.pipeline(transaction=False) as pipe:
        for service in services:
            pipe.zcard(held_key(service))
            pipe.zcard(service_due_key(service))
            pipe.zrange(held_key(service), 0, 0, withscores=True)
            pipe.zrange(service_due_key(service), 0, 0, withscores=True)
            pipe.zcount(service_due_key(service), "-inf", f"({now - grace_s!r}")
            pipe.hget(DELETED, service)
            pipe.hget(ERASED, service)
            pipe.hget(RULES, service)
        raw = await pipe.execute()
    return [_report_line(service, raw[i * 8:(i + 1) * 8]).as_dict()
            for i, service in enumerate(services)]


def _report_line(service: str, raw: Sequence[object]) -> ServiceReport:
    held, due, oldest, first_due, overdue, deleted, erased, rule = raw
    return service_report(service, rule=cast(bytes, rule or b"").decode(),
                          held=int(cast(int, held)), due=int(cast(int, due)),
                          oldest_written_at=_first_score(oldest),
                          next_due=_first_score(first_due), deleted=_int(deleted),
                          erased=_int(erased), overdue=int(cast(int, overdue)))


async def audit(oem: Redis, *, count: int = 100) -> list[dict[str, str]]:
    """The latest ``count`` audit entries, newest first, each with its stream ``id``."""
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]],
                   await oem.xrevrange(AUDIT, count=count))
    return [{"id": entry_id.decode(), **{k.decode(): v.decode() for k, v in fields.items()}}
            for entry_id, fields in entries]


async def held_counts(oem: Redis, services: Sequence[str]) -> dict[str, int]:
    """How many records of each service are held now."""
    async with oem.pipeline(transaction=False) as pipe:
        for service in services:
            pipe.zcard(held_key(service))
        counts = cast(list[int], await pipe.execute())
    return {service: int(n) for service, n in zip(services, counts, strict=True)}
