"""Which keys of the OEM database still hold a given value: an incident id, a VIN, MSD bytes.

The retention report counts what its tags know of; an auditor also wants to know that
nothing untagged holds a record's data: a stream entry never trimmed, an index member left
behind, a copy under another key. This scan answers that from the data itself. It walks the
keyspace with ``SCAN`` (never ``KEYS``, which blocks the server) and each key's content
with the type's own cursor (``HSCAN``, ``SSCAN``, ``ZSCAN``, ``XRANGE`` in pages,
``LRANGE`` in pages, ``GET``), and reports every key whose name, field names, values,
members or stream entries contain the needle. It is bounded by ``max_keys`` keys and
``max_items`` parts per key (a field and its value are two); a scan cut short says so
(``complete`` is False).

Left out, as the backend's own bookkeeping that is not a record of anyone's data
(``BOOKKEEPING``; each is counted in ``skipped``, never read):

* ``metrics:*``: counters by kind of message and outcome; they hold no identity.
* ``lanes:ready``: which lanes run; no data of a car.
* ``cc:seen:*`` and ``psap:seen:*``: the relay's de-duplication markers. They name the car
  and the incident so that a redelivered message is not relayed twice, hold nothing else,
  and expire by themselves after their time to live (a real-time guard against replays,
  docs/architecture.md#idempotent-desks), so they are not a store of the incident.

Everything else counts, the retention bookkeeping (``ret:*``) included: a tag or an index
entry that outlives its record still names the record, which is what this scan is for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Final, Literal, cast

from redis.asyncio import Redis

BOOKKEEPING: Final = (b"metrics:", b"lanes:ready", b"cc:seen:", b"psap:seen:")
PAGE: Final = 500
Where = Literal["key", "field", "value", "member", "entry"]


@dataclass(frozen=True, slots=True)
class StorageHit:
    """One key that holds the needle, its Redis type, and where in it the needle was."""

    key: str
    type: str
    where: tuple[Where, ...]


@dataclass(frozen=True, slots=True)
class StorageScan:
    """What a scan found, how much it read, and whether it read everything."""

    hits: list[StorageHit] = field(default_factory=list)
    keys_scanned: int = 0
    skipped: int = 0
    complete: bool = True


def is_bookkeeping(key: bytes) -> bool:
    """Whether ``key`` is one of the backend's own non-personal keys (see the module)."""
    return key.startswith(BOOKKEEPING)


def places(needle: bytes, key: bytes, parts: Iterable[tuple[Where, bytes]]) -> tuple[Where, ...]:
    """Where ``needle`` occurs: in the key's name and in which kinds of its ``parts``."""
    found: dict[Where, None] = {}
    if needle in key:
        found["key"] = None
    for where, part in parts:
        if needle in part:
            found[where] = None
    return tuple(found)


async def _keys(oem: Redis) -> AsyncIterator[bytes]:
    async for key in oem.scan_iter(count=PAGE):
        yield key if isinstance(key, bytes) else str(key).encode()


def _raw(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


async def _hash(oem: Redis, key: bytes) -> AsyncIterator[tuple[Where, bytes]]:
    async for name, value in oem.hscan_iter(key, count=PAGE):
        yield "field", _raw(name)
        yield "value", _raw(value)


async def _set(oem: Redis, key: bytes) -> AsyncIterator[tuple[Where, bytes]]:
    async for member in oem.sscan_iter(key, count=PAGE):
        yield "member", _raw(member)


async def _zset(oem: Redis, key: bytes) -> AsyncIterator[tuple[Where, bytes]]:
    async for member, _score in oem.zscan_iter(key, count=PAGE):
        yield "member", _raw(member)


async def _stream(oem: Redis, key: bytes) -> AsyncIterator[tuple[Where, bytes]]:
    start = "-"
    while True:
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]],
                       await oem.xrange(key, min=start, count=PAGE))
        for _entry_id, fields in entries:
            for name, value in fields.items():
                yield "entry", _raw(name)
                yield "entry", _raw(value)
        if len(entries) < PAGE:
            return
        start = "(" + _raw(entries[-1][0]).decode()


async def _list(oem: Redis, key: bytes) -> AsyncIterator[tuple[Where, bytes]]:
    start = 0
    while True:
        items = cast(list[bytes], await oem.lrange(key, start, start + PAGE - 1))
        for item in items:
            yield "value", _raw(item)
        if len(items) < PAGE:
            return
        start += PAGE


async def _string(oem: Redis, key: bytes) -> AsyncIterator[tuple[Where, bytes]]:
    value = await oem.get(key)
    if value is not None:
        yield "value", _raw(value)


_READERS: Final = {"hash": _hash, "set": _set, "zset": _zset, "stream": _stream,
                   "list": _list, "string": _string}


async def _parts(oem: Redis, key: bytes, kind: str, max_items: int
                 ) -> tuple[list[tuple[Where, bytes]], bool]:
    """Up to ``max_items`` elements of ``key``; True when that was all of them."""
    reader = _READERS.get(kind)
    if reader is None:
        return [], True
    parts: list[tuple[Where, bytes]] = []
    async for part in reader(oem, key):
        if len(parts) >= max_items:
            return parts, False
        parts.append(part)
    return parts, True


async def scan(oem: Redis, needle: bytes, *, max_keys: int = 100_000,
               max_items: int = 100_000) -> StorageScan:
    """Every key of ``oem`` (bookkeeping left out) that holds ``needle``, bounded."""
    hits: list[StorageHit] = []
    scanned = skipped = 0
    complete = True
    async for key in _keys(oem):
        if is_bookkeeping(key):
            skipped += 1
            continue
        if scanned >= max_keys:
            complete = False
            break
        scanned += 1
        kind = _raw(await oem.type(key)).decode()
        parts, whole = await _parts(oem, key, kind, max_items)
        complete = complete and whole
        where = places(needle, key, parts)
        if where:
            hits.append(StorageHit(key=key.decode(errors="replace"), type=kind, where=where))
    hits.sort(key=lambda h: h.key)
    return StorageScan(hits=hits, keys_scanned=scanned, skipped=skipped, complete=complete)
