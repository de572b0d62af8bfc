"""High-voltage warn calls on the emergency lane: call centre, contact data, local PSAP."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import cast

from redis.asyncio import Redis

from backend.infra import keys
from backend.privacy.retention_store import read_tag
from backend.services.vehicle_registry import CustomerContact, VehicleProfile, save_profile
from protocols.envelope import EcallAck
from protocols.hv import HvWarnCall, pack_hv_call
from protocols.topics import hv_ack_topic, hv_warn_topic
from tests.backend.support import Car, Lanes

KNOWN_CUSTOMER_VIN = "WMW11GD0X0T000001"  # the test writes its profile, with a contact
CONTACT = CustomerContact(name="Lotte Peeters", phone="+32 470 12 34 56", language="nl")


async def _hash(redis_url: str, db: int, key: str) -> dict[str, str]:
    redis = Redis.from_url(redis_url, db=db)
    try:
        for _ in range(250):
            raw = cast(dict[bytes, bytes], await redis.hgetall(key))
            if raw:
                return {k.decode(): v.decode() for k, v in raw.items()}
            await asyncio.sleep(0.02)
    finally:
        await redis.aclose()
    raise AssertionError(f"{key} never appeared")


async def test_hv_warn_lane_reaches_callcentre_then_local_psap(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """A BEV's thermal warning is acked, opened as a case with the contact of its customer
    profile, handed to PSAP BE."""
    incident = f"{KNOWN_CUSTOMER_VIN}-hv-{uuid.uuid4().hex[:6]}"
    profiles = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    try:
        await save_profile(profiles, KNOWN_CUSTOMER_VIN, VehicleProfile(
            home_country="BE", home_lat=50.85, home_lon=4.35, contact=CONTACT), now=time.time())
    finally:
        await profiles.aclose()
    call = HvWarnCall(vin=KNOWN_CUSTOMER_VIN, lat=50.8467, lon=4.3525, model="BEV",
                      plug_state="plugged", incident=incident, timestamp=time.time(),
                      doors={"front_left": "closed"}, boot="closed", engine_state="off",
                      ignition="off", sent_ns=time.time_ns())
    async with Car(mqtt_url, KNOWN_CUSTOMER_VIN, topics=[hv_ack_topic(KNOWN_CUSTOMER_VIN)]
                   ) as car:
        car.publish_raw(hv_warn_topic(KNOWN_CUSTOMER_VIN), pack_hv_call(call))
        ack = await car.next()
    assert isinstance(ack, EcallAck)
    assert (ack.incident, ack.route) == (incident, "callcentre")

    case = await _hash(redis_url, lanes.settings.oem_db, keys.case_key(incident))
    assert case["variant"] == "hv_warn"
    assert case["psap"] == "psap-BE"
    assert case["service"] == "hv_warn_call"
    assert "retention_rule" not in case  # the tag is the one source of the rule
    oem = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    try:
        tag = await read_tag(oem, keys.case_key(incident))
    finally:
        await oem.aclose()
    assert tag is not None and tag.rule.kind == "fixed_window"
    six_months_s = 181 * 86400
    assert abs(float(case["delete_after"]) - call.timestamp - six_months_s) < 4 * 86400
    details = json.loads(case["extras"])
    assert details["contact"] == CONTACT.model_dump()
    assert details["plug_state"] == "plugged"

    psap = await _hash(lanes.settings.psap_url, lanes.settings.psap_db,
                       keys.psap_incident_key(incident))
    assert (psap["desk"], psap["via"], psap["variant"]) == ("psap-BE", "callcentre", "hv_warn")
    assert json.loads(psap["extras"])["contact"]["name"] == CONTACT.name


async def test_hv_warn_lane_counts_an_unreadable_oversized_call(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    """An unreadable 30 KB payload on the warn-call topic is counted as rejected."""
    oem = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    before = int(await oem.hget(keys.INGEST_COUNTERS, "rejected") or 0)
    async with Car(mqtt_url, KNOWN_CUSTOMER_VIN) as car:
        car.publish_raw(hv_warn_topic(KNOWN_CUSTOMER_VIN), b"\x81\xa1v\x01" + bytes(30_000))
    for _ in range(250):
        if int(await oem.hget(keys.INGEST_COUNTERS, "rejected") or 0) > before:
            break
        await asyncio.sleep(0.02)
    after = int(await oem.hget(keys.INGEST_COUNTERS, "rejected") or 0)
    await oem.aclose()
    assert after == before + 1
