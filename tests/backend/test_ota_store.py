"""OTA campaigns in a real Redis (OEM database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import cast

import pytest
import redis
from redis.asyncio import Redis

from backend.ota.campaign import (
    Action,
    Campaign,
    CampaignSpec,
    Offer,
    RolloutGroup,
    TargetSelector,
    VehicleFacts,
    on_vehicle_event,
    pause,
    plan,
    start,
)
from backend.ota.errors import (
    CampaignConflictError,
    CampaignTransitionError,
    UnknownCampaignError,
)
from backend.ota.store import (
    CampaignRecord,
    campaign_ids,
    campaign_key,
    create_campaign,
    decode_campaign,
    encode_campaign,
    load_campaign,
    update_campaign,
)
from tests.backend.support import new_vin

T0 = 1_767_225_600.0


@pytest.fixture
async def oem(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, db=0)
    yield client
    await client.aclose()


@pytest.fixture
def other_writer(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, db=0)
    yield client
    client.close()


def _campaign() -> Campaign:
    spec = CampaignSpec(
        f"camp-{uuid.uuid4().hex[:10]}", "24-07.1", 4_200_000_000,
        TargetSelector(propulsions=("BEV",), min_os=9, countries=("NL", "BE")),
        (RolloutGroup("pilot", size=1, success_threshold=1.0, error_threshold=1.0),
         RolloutGroup("rest", share=1.0, success_threshold=0.5, error_threshold=0.5)),
        action_timeout_s=7_200.0, critical=True)
    fleet = [VehicleFacts(new_vin(), "cooper_se", "BEV", 9, "NL") for _ in range(4)]
    return plan(spec, fleet)


async def test_ota_store_round_trip_is_its_record(oem: Redis) -> None:
    """A stored campaign loads back equal; its hash is its record, status beside the JSON."""
    started, _ = start(_campaign(), now=T0)
    campaign_id = started.spec.campaign_id
    assert await create_campaign(oem, started) == started
    assert await load_campaign(oem, campaign_id) == started
    assert decode_campaign(encode_campaign(started)) == started
    raw = cast(dict[bytes, bytes], await oem.hgetall(campaign_key(campaign_id)))
    assert CampaignRecord.from_fields(raw) == CampaignRecord.of(started)
    assert set(raw) == {b"campaign_id", b"status", b"updated_at", b"data"}
    assert raw[b"status"] == b"running"
    assert campaign_id in await campaign_ids(oem)


async def test_ota_store_create_twice_keeps_the_first(oem: Redis) -> None:
    """Creating a campaign id again returns the stored campaign unchanged."""
    first = _campaign()
    await create_campaign(oem, first)
    started, _ = start(first, now=T0)
    assert await create_campaign(oem, started) == first


async def test_ota_store_update_applies_step_and_returns_actions(oem: Redis) -> None:
    """An update stores the stepped campaign and hands back its actions."""
    campaign = await create_campaign(oem, _campaign())
    campaign_id = campaign.spec.campaign_id
    started, actions = await update_campaign(oem, campaign_id,
                                             lambda c: start(c, now=T0))
    assert actions == [Offer(campaign.members[0], "pilot")]
    assert await load_campaign(oem, campaign_id) == started
    with pytest.raises(CampaignTransitionError, match="cannot start again"):
        await update_campaign(oem, campaign_id, lambda c: start(c, now=T0 + 1))
    assert await load_campaign(oem, campaign_id) == started


async def test_ota_store_concurrent_update_is_retried(oem: Redis,
                                                      other_writer: redis.Redis) -> None:
    """A write by someone else between read and write makes the step run again on it."""
    campaign = await create_campaign(oem, start(_campaign(), now=T0)[0])
    campaign_id = campaign.spec.campaign_id
    pilot = campaign.members[0][0]
    seen: list[str] = []

    def step(c: Campaign) -> tuple[Campaign, list[Action]]:
        seen.append(c.vehicles[pilot].status)
        if len(seen) == 1:
            done, _ = on_vehicle_event(c, pilot, "done", now=T0 + 1)
            other_writer.hset(campaign_key(campaign_id),
                              mapping=CampaignRecord.of(done).to_fields())
        return pause(c, now=T0 + 2)

    paused, _ = await update_campaign(oem, campaign_id, step)
    assert seen == ["offered", "done"]
    stored = await load_campaign(oem, campaign_id)
    assert stored == paused
    assert (stored.status, stored.vehicles[pilot].status, stored.group) == ("paused", "done", 1)


async def test_ota_store_gives_up_when_always_overtaken(oem: Redis,
                                                        other_writer: redis.Redis) -> None:
    """A campaign that changes on every try ends in CampaignConflictError."""
    campaign = await create_campaign(oem, _campaign())
    key = campaign_key(campaign.spec.campaign_id)

    def step(c: Campaign) -> tuple[Campaign, list[Action]]:
        other_writer.hset(key, "updated_at", "1.0")
        return c, []

    with pytest.raises(CampaignConflictError, match="gave up after 3 tries"):
        await update_campaign(oem, campaign.spec.campaign_id, step, tries=3)


async def test_ota_store_unknown_campaign(oem: Redis) -> None:
    """Loading or updating a campaign never stored is an UnknownCampaignError."""
    missing = f"camp-{uuid.uuid4().hex[:10]}"
    with pytest.raises(UnknownCampaignError, match=f"no campaign '{missing}'"):
        await load_campaign(oem, missing)
    with pytest.raises(UnknownCampaignError):
        await update_campaign(oem, missing, lambda c: start(c, now=T0))
