"""Assistance cases in a real Redis: the typed record, its tag, and the view of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from backend.assistance.case_record import AssistanceCaseRecord
from backend.assistance.desk import Assessment, decide_case
from backend.assistance.entitlements import Policy
from backend.assistance.store import (
    case_key,
    close_case,
    list_cases,
    load_case,
    read_case,
    save_case,
    stored_call,
)
from backend.privacy.retention_store import read_tag
from protocols.assistance import AssistanceCall
from tests.backend.support import new_vin, own_database

DB = 5  # this module's own database: the tests list every case in it
AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC).timestamp()
POLICY = Policy(programme="road_assist_24_7", home_country="BE", home_lat=50.8467,
                home_lon=4.3525, pickup_date=date(2023, 5, 1))


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    async with own_database(redis_url, DB) as client:
        yield client


def _call(request_id: str, **changes: Any) -> AssistanceCall:
    values: dict[str, Any] = {
        "vin": new_vin(), "request_id": request_id, "kind": "breakdown", "channel": "car",
        "customer_confirmed": False, "lat": 50.6326, "lon": 5.5797,
        "vehicle_status": {"fault_codes": ["P0A80"], "warning_lamps": [], "drivable": False,
                           "soc_pct": 40.0},
        "movement": {"speed_kmh": 0.0, "heading_deg": 10.0, "odometer_km": 1000.0},
        "at": AT, "sent_ns": 1,
    }
    return AssistanceCall(**(values | changes))


async def test_assistance_store_writes_the_record_and_tags_it(oem: Redis) -> None:
    """The stored hash is the case's record and nothing else; the rule is the tag's."""
    case = decide_case(_call("r-1"), POLICY, now=AT,
                       assessment=Assessment(repair_working_days=4, requested=("hotel",)))
    await save_case(oem, case)
    raw = cast(dict[bytes, bytes], await oem.hgetall(case_key("r-1")))
    assert AssistanceCaseRecord.from_fields(raw) == AssistanceCaseRecord.of_case(case)
    assert b"retention_rule" not in raw and b"status" not in raw
    loaded = await load_case(oem, "r-1")
    assert loaded is not None and loaded.decision == case.decision
    assert loaded.call == case.call
    tag = await read_tag(oem, case_key("r-1"))
    assert tag is not None
    assert (tag.service, tag.rule.kind, tag.written_at) == ("roadside_assistance",
                                                            "until_closed", AT)


async def test_assistance_store_view_shows_the_rule_from_the_tag(oem: Redis) -> None:
    """The API's view: the decision, the call, the status and the tag's rule."""
    call = _call("r-2")
    await save_case(oem, decide_case(call, POLICY, now=AT))
    view = await read_case(oem, "r-2")
    assert view is not None
    assert (view["request_id"], view["vin"], view["kind"], view["status"],
            view["service"], view["retention_rule"], view["opened_at"]) == (
        "r-2", call.vin, "breakdown", "open", "roadside_assistance", "until_closed", AT)
    assert isinstance(view["reasons"], list) and isinstance(view["granted"], list)
    assert "closed_at" not in view
    assert stored_call(view) == call
    assert await read_case(oem, "none") is None


async def test_assistance_store_close_then_decide_again_keeps_both_times(
        oem: Redis) -> None:
    """Closing starts the tag's clock; a later assessment changes the decision but not
    when the case was opened or closed."""
    call = _call("r-3")
    await save_case(oem, decide_case(call, POLICY, now=AT))
    assert await close_case(oem, "r-3", now=AT + 60)
    tag = await read_tag(oem, case_key("r-3"))
    assert tag is not None and tag.closed_at == AT + 60
    again = decide_case(call, POLICY, now=AT + 120,
                        assessment=Assessment(repair_working_days=5))
    await save_case(oem, again)
    view = await read_case(oem, "r-3")
    assert view is not None
    assert (view["status"], view["opened_at"], view["closed_at"]) == ("closed", AT, AT + 60)
    assert not await close_case(oem, "none", now=AT)


async def test_assistance_store_reads_a_case_an_older_version_wrote(oem: Redis) -> None:
    """A hash with the old status and retention_rule copies still reads as its record."""
    case = decide_case(_call("r-4"), POLICY, now=AT)
    await oem.hset(case_key("r-4"), mapping={
        **AssistanceCaseRecord.of_case(case).to_fields(), "status": "open",
        "retention_rule": "until_procedures_closed"})
    assert await load_case(oem, "r-4") == AssistanceCaseRecord.of_case(case)


async def test_assistance_store_lists_newest_first(oem: Redis) -> None:
    for n in range(3):
        await save_case(oem, decide_case(_call(f"r-list-{n}"), POLICY, now=AT + n))
    listed = await list_cases(oem, limit=2)
    assert [c["request_id"] for c in listed] == ["r-list-2", "r-list-1"]
    assert {c["retention_rule"] for c in listed} == {"until_closed"}
