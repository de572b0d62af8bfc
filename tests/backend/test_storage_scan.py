"""The storage scan over a real Redis: every type of key searched, bookkeeping left out,
bounds reported, and its route guarded and strict about its needle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from redis.asyncio import Redis

from backend.api.routes import retention
from backend.privacy.storage_scan import is_bookkeeping, places, scan
from tests.backend.support import StepClock, auth, router_app

NEEDLE = "inc-7f3a9c"
MSD = bytes.fromhex("0a1b2c3d4e5f")


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_url, db=11)
    await redis.flushdb()
    yield redis
    await redis.aclose()


async def _fill(oem: Redis) -> None:
    """One key of each type holding the needle somewhere, and some that do not."""
    await oem.hset("cc:case:x", mapping={"incident": NEEDLE, "vin": "WMW"})
    await oem.hset(f"cc:case:{NEEDLE}", mapping={"vin": "WMW"})
    await oem.xadd("cc:intake", {"incident": "other", "msd": MSD})
    await oem.xadd("cc:intake", {"incident": NEEDLE, "msd": b"\x00"})
    await oem.zadd("cc:cases", {NEEDLE: 1.0, "other": 2.0})
    await oem.sadd("ret:vin:WMW", f"psap:{NEEDLE}")
    await oem.set("note", f"about {NEEDLE}")
    await oem.rpush("queue", "a", NEEDLE)
    await oem.hset("sp:case:clean", mapping={"incident": "nothing here"})
    await oem.set(f"cc:seen:WMW:{NEEDLE}:1", 1)
    await oem.hset("metrics:ingest", mapping={NEEDLE: 1})


def test_storage_scan_places_name_where_the_needle_is() -> None:
    assert places(b"ab", b"key:ab", [("value", b"xx"), ("field", b"zab")]) == ("key", "field")
    assert places(b"ab", b"key", [("value", b"a"), ("value", b"b")]) == ()
    assert is_bookkeeping(b"cc:seen:V:I:1") and is_bookkeeping(b"metrics:errors")
    assert not is_bookkeeping(b"ret:meta:cc:case:I") and not is_bookkeeping(b"cc:case:I")


async def test_storage_scan_finds_the_needle_in_every_type_but_bookkeeping(oem: Redis) -> None:
    await _fill(oem)
    found = await scan(oem, NEEDLE.encode())
    assert {(h.key, h.type, h.where) for h in found.hits} == {
        ("cc:case:x", "hash", ("value",)),
        (f"cc:case:{NEEDLE}", "hash", ("key",)),
        ("cc:intake", "stream", ("entry",)),
        ("cc:cases", "zset", ("member",)),
        ("ret:vin:WMW", "set", ("member",)),
        ("note", "string", ("value",)),
        ("queue", "list", ("value",)),
    }
    assert (found.skipped, found.keys_scanned, found.complete) == (2, 8, True)
    by_bytes = await scan(oem, MSD)
    assert [h.key for h in by_bytes.hits] == ["cc:intake"]


async def test_storage_scan_says_when_its_bounds_cut_it_short(oem: Redis) -> None:
    await oem.rpush("long", *[f"item-{i}" for i in range(1_200)], NEEDLE)
    cut = await scan(oem, NEEDLE.encode(), max_items=1_000)
    assert (cut.hits, cut.complete) == ([], False)
    whole = await scan(oem, NEEDLE.encode())
    assert ([h.key for h in whole.hits], whole.complete) == (["long"], True)
    await oem.set("another", "x")
    assert (await scan(oem, NEEDLE.encode(), max_keys=1)).keys_scanned == 1
    assert not (await scan(oem, NEEDLE.encode(), max_keys=1)).complete


@pytest.fixture
async def http(oem: Redis) -> AsyncIterator[httpx.AsyncClient]:
    app = router_app(retention.router, state=SimpleNamespace(oem=oem, clock=StepClock(0.0)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        yield client


async def test_storage_route_answers_the_operator_only_with_one_needle(
        oem: Redis, http: httpx.AsyncClient) -> None:
    await _fill(oem)
    operator = auth("operator")
    body = (await http.get("/retention/storage", params={"contains": NEEDLE},
                           headers=operator)).json()
    assert body["count"] == 7 and body["needle"] == NEEDLE and body["complete"] is True
    assert {"key": "cc:cases", "type": "zset", "where": ["member"]} in body["hits"]
    by_hex = (await http.get("/retention/storage", params={"hex": MSD.hex()},
                             headers=operator)).json()
    assert [h["key"] for h in by_hex["hits"]] == ["cc:intake"]
    for params in ({}, {"contains": NEEDLE, "hex": MSD.hex()}, {"hex": "abc"},
                   {"contains": "ab"}):
        response = await http.get("/retention/storage", params=params, headers=operator)
        assert response.status_code == 422, params
    for role, party in (("callcentre", ""), ("psap", "BE"), ("traffic", "")):
        response = await http.get("/retention/storage", params={"contains": NEEDLE},
                                  headers=auth(role, party))
        assert response.status_code == 403, role
