"""The desks on in-memory streams and stores, fed by the relay: records applied once,
hand-overs, HV routing, updates, malformed entries parked, pending entries recovered."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict

import pytest
from redis.exceptions import RedisError

from backend.emergency.desk_loop import CLAIM_IDLE_MS
from backend.emergency.hv_handling import Customer
from backend.emergency.incidents import vin_of
from backend.infra import keys
from protocols.catalogue import entry as catalogue_entry
from protocols.envelope import VoiceCall, pack
from protocols.hv import pack_hv_call
from protocols.topics import hv_warn_topic, voice_topic
from tests.backend.support import new_vin
from tests.backend.test_relay_offline import EXTRAS, ecall, hv_call
from tests.fakes.decodes import count_msd_decodes
from tests.fakes.path import EcallPath

KNOWN_CUSTOMER_VIN = "WMW11GD0X0T000001"  # its profile has a contact (the fixture's)
PSAP_BE = keys.psap_stream("psap-BE")
CONTACT = Customer(name="Lotte Peeters", phone="+32 470 12 34 56", language="nl")


def _incident() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def path() -> EcallPath:
    path = EcallPath()
    path.contacts.by_vin[KNOWN_CUSTOMER_VIN] = CONTACT
    await path.psap_desks().setup()
    await path.callcentre().setup()
    return path


async def test_desks_psap_records_a_legal_ecall_with_the_msd_it_decodes(
        path: EcallPath) -> None:
    vin, incident = new_vin(), _incident()
    await path.relay().handle(*ecall("legal", vin, incident))
    assert await path.psap_desks().drain(pending=False, block_ms=None) == 1
    record = path.incidents.record(incident)
    assert (record.desk, record.variant, record.via, record.vin) == (
        "psap-BE", "legal", "direct", vin)
    assert record.msd is not None and record.msd["msdStructure"]["vehicleDirection"] == 45
    assert path.psap.pending(PSAP_BE, keys.PSAP_GROUP) == {}  # acknowledged
    assert path.count("metrics:desks", "psap-BE:ecall") == 1


async def test_desks_psap_applies_an_entry_once_however_often_it_is_read(
        path: EcallPath) -> None:
    """The same entry again (read after a restart before its XACK) or a copy of it under
    another id leaves one transmission."""
    incident = _incident()
    await path.relay().handle(*ecall("legal", new_vin(), incident))
    [(entry_id, fields)] = path.psap.entries[PSAP_BE].items()
    desks = path.psap_desks()
    for again in (entry_id, entry_id, "99-0"):
        await desks.record(PSAP_BE, again, fields, time.time_ns())
    record = path.incidents.record(incident)
    assert [t.msg_id for t in record.transmissions] == [1]
    assert path.count("metrics:desks", "psap-BE:ecall") == 1


async def test_desks_update_request_answered_is_one_more_transmission(path: EcallPath) -> None:
    """An operator's update request reaches the car the record names; its next MSD is an
    update of the same incident, not a new one and not a duplicate."""
    vin, incident = new_vin(), _incident()
    relay, desks = path.relay(), path.psap_desks()
    await relay.handle(*ecall("legal", vin, incident))
    await desks.drain(pending=False, block_ms=None)
    assert vin_of(path.incidents.record(incident).view()) == vin
    await relay.handle(*ecall("legal", vin, incident, msg_id=2))
    await desks.drain(pending=False, block_ms=None)
    view = path.incidents.record(incident).view()
    assert (view["updates"], [t["msg_id"] for t in view["transmissions"]]) == (1, [1, 2])
    assert view["received_ns"] == view["transmissions"][0]["received_ns"]
    assert view["last_received_ns"] == view["transmissions"][1]["received_ns"]


async def test_desks_psap_refuses_another_vehicle_reusing_an_incident(path: EcallPath) -> None:
    """The second car's entry is parked and counted; the record stays the first car's."""
    genuine, incident = new_vin(), _incident()
    relay, desks = path.relay(), path.psap_desks()
    await relay.handle(*ecall("legal", genuine, incident))
    await relay.handle(*ecall("legal", new_vin(), incident, msg_id=2))
    assert await desks.drain(pending=False, block_ms=None) == 2
    record = path.incidents.record(incident)
    assert (record.vin, [t.msg_id for t in record.transmissions]) == (genuine, [1])
    [(_, parked, reason)] = path.psap.dead[PSAP_BE]
    assert parked[b"incident"] == incident.encode() and reason.startswith("vin:")
    assert path.count(keys.ERROR_COUNTERS,
                      "desk:vin:== the vehicle that opened the incident") == 1
    assert path.psap.pending(PSAP_BE, keys.PSAP_GROUP) == {}


@pytest.mark.parametrize(("change", "counted"), [
    ({b"msg_id": b"one"}, "desk:msg_id:integer"),
    ({b"kind": b"telemetry"}, "desk:kind:ecall|voice|handover"),
    ({b"msd": b"\x03\x02\xff\xff"}, "desk:control.vehicleType:truncated"),
])
async def test_desks_malformed_entry_is_parked_counted_and_the_next_one_recorded(
        path: EcallPath, change: dict[bytes, bytes], counted: str) -> None:
    poison, good = _incident(), _incident()
    relay = path.relay()
    await relay.handle(*ecall("legal", new_vin(), poison))
    stored = path.psap.entries[PSAP_BE]
    [poison_id] = stored
    stored[poison_id] = stored[poison_id] | change
    await relay.handle(*ecall("legal", new_vin(), good))
    assert await path.psap_desks().drain(pending=False, block_ms=None) == 2
    assert poison not in path.incidents.hashes and good in path.incidents.hashes
    [(parked_id, _, _)] = path.psap.dead[PSAP_BE]
    assert parked_id == poison_id
    assert path.count(keys.ERROR_COUNTERS, counted) == 1
    assert path.psap.pending(PSAP_BE, keys.PSAP_GROUP) == {}


async def test_desks_voice_call_is_recorded_without_vehicle_data(path: EcallPath) -> None:
    call = _incident()
    await path.relay().handle(voice_topic("SI"), pack(VoiceCall(call, time.time_ns())))
    await path.psap_desks().drain(pending=False, block_ms=None)
    view = path.incidents.record(call).view()
    assert (view["desk"], view["kind"], view["variant"]) == ("psap-SI", "voice", "psap_voice")
    assert {"msd", "vin", "extras"}.isdisjoint(view)


async def _through_callcentre(path: EcallPath) -> None:
    """The call centre records what the relay handed it, then the PSAP desks."""
    await path.callcentre().drain(pending=False, block_ms=None)
    await path.psap_desks().drain(pending=False, block_ms=None)


async def test_desks_callcentre_opens_a_tagged_case_and_hands_over_to_the_psap(
        path: EcallPath, monkeypatch: pytest.MonkeyPatch) -> None:
    """An Intelligent eCall: a case under its catalogue rule, the extended data apart under
    its own, the PSAP record via the call centre; the MSD decoded by the relay and the PSAP
    only."""
    decodes = count_msd_decodes(monkeypatch)
    vin, incident = new_vin(), _incident()
    await path.relay().handle(*ecall("intelligent", vin, incident))
    await _through_callcentre(path)
    case = path.cases.case(incident)
    assert (case.vin, case.status, case.psap, case.service) == (
        vin, "open", "psap-BE", "ecall_intelligent")
    tag = path.cases.tags[keys.case_key(incident)]
    assert catalogue_entry(tag.service).retention.kind == "until_closed"
    extended = path.cases.tags[keys.extended_key(incident)]
    assert catalogue_entry(extended.service).retention.window_s == 30 * 86_400
    assert json.loads(path.cases.extended[incident]) == asdict(EXTRAS)
    voice = path.cases.tags[keys.voice_recording_key(incident)]  # ECALL-R7: 24 hours
    assert catalogue_entry(voice.service).retention.window_s == 24 * 3_600
    assert path.cases.recordings[incident].reference == f"rec-{incident}"
    record = path.incidents.record(incident)
    assert (record.via, record.kind, record.variant, record.vin) == (
        "callcentre", "handover", "intelligent", vin)
    assert record.extras == asdict(EXTRAS)
    assert record.msd == case.view()["msd"]
    assert len(decodes) == 2  # the relay's and the PSAP's: the call centre decodes none
    assert path.oem.stream(keys.CALLCENTRE_STREAM) == []  # transit only


async def test_desks_callcentre_reapplied_entry_opens_one_case_and_hands_over_once(
        path: EcallPath) -> None:
    """Read twice (Redis restarted before the XACK): one transmission, one hand-over,
    one count; the hand-over is offered again and de-duplicated."""
    incident = _incident()
    await path.relay().handle(*ecall("intelligent", new_vin(), incident))
    [(entry_id, fields)] = path.oem.entries[keys.CALLCENTRE_STREAM].items()
    desk = path.callcentre()
    for _ in range(2):
        await desk.record(keys.CALLCENTRE_STREAM, entry_id, fields, time.time_ns())
    assert [t.msg_id for t in path.cases.case(incident).transmissions] == [1]
    assert len(path.psap.stream(PSAP_BE)) == 1
    assert path.psap.appends == 2
    assert path.count("metrics:desks", "callcentre:case") == 1


async def test_desks_fallback_from_the_call_centre_to_legal_is_a_second_channel(
        path: EcallPath) -> None:
    """The car got no acknowledgement of its Intelligent eCall and fell back to Legal
    (msg 2): the PSAP holds both the call centre's hand-over and the direct eCall, and
    the record says the car ended on Legal, though the hand-over arrived last."""
    vin, incident = new_vin(), _incident()
    relay = path.relay()
    await relay.handle(*ecall("intelligent", vin, incident))
    await relay.handle(*ecall("legal", vin, incident, msg_id=2))
    await _through_callcentre(path)
    record = path.incidents.record(incident)
    assert [(t.kind, t.msg_id) for t in record.transmissions] == [("ecall", 2), ("handover", 1)]
    assert (record.kind, record.variant, record.via) == ("ecall", "legal", "direct")


def _channels(view: dict[str, object]) -> list[tuple[object, ...]]:
    shown = view["transmissions"]
    assert isinstance(shown, list)
    return [(t["channel"], t["variant"], t["msg_id"], t["update"]) for t in shown]


async def test_desks_late_acks_leave_each_channel_apart_and_count_no_update(
        path: EcallPath) -> None:
    """Both acks came late, so the car went Intelligent -> Legal -> voice; the call
    centre's hand-over of MSD #1 reaches the PSAP after the voice call. The record lists
    each channel with its variant, says the car ended on the voice call, keeps the Legal
    MSD #2 (the freshest) and counts no update: no operator asked for one."""
    vin, incident = new_vin(), _incident()
    relay = path.relay()
    await relay.handle(*ecall("intelligent", vin, incident))
    await relay.handle(*ecall("legal", vin, incident, msg_id=2))
    await relay.handle(voice_topic("BE"), pack(VoiceCall(incident, time.time_ns())))
    await path.psap_desks().drain(pending=False, block_ms=None)
    await _through_callcentre(path)
    view = path.incidents.record(incident).view()
    assert _channels(view) == [("legal", "legal", 2, False), ("voice", "psap_voice", 0, False),
                               ("handover", "intelligent", 1, False)]
    assert (view["final_channel"], view["variant"], view["kind"], view["via"]) == (
        "voice", "psap_voice", "voice", "direct")
    assert view["updates"] == 0
    assert view["msd"]["msdStructure"]["messageIdentifier"] == 2
    assert view["vin"] == vin


async def test_desks_update_after_the_fallback_is_counted_on_its_channel(
        path: EcallPath) -> None:
    """After the fallback to Legal the operator asks for an update: Legal MSD #3 is the
    one update; the hand-over of #1 and the Legal #2 are not."""
    vin, incident = new_vin(), _incident()
    relay = path.relay()
    await relay.handle(*ecall("intelligent", vin, incident))
    await _through_callcentre(path)
    for msg_id in (2, 3):
        await relay.handle(*ecall("legal", vin, incident, msg_id=msg_id))
    await path.psap_desks().drain(pending=False, block_ms=None)
    view = path.incidents.record(incident).view()
    assert _channels(view) == [("handover", "intelligent", 1, False), ("legal", "legal", 2, False),
                               ("legal", "legal", 3, True)]
    assert (view["final_channel"], view["via"], view["updates"]) == ("legal", "direct", 1)
    assert view["msd"]["msdStructure"]["messageIdentifier"] == 3


@pytest.mark.parametrize(("vin", "lat", "lon", "desk", "contact"), [
    (KNOWN_CUSTOMER_VIN, 50.8467, 4.3525, "psap-BE", True),
    (new_vin(), 52.37, 4.89, "psap-NL", False),
])
async def test_desks_hv_warn_call_goes_to_the_psap_of_its_position_with_the_contact(
        path: EcallPath, vin: str, lat: float, lon: float, desk: str, contact: bool) -> None:
    """HV-R2: the call centre adds the customer's contact data (when it has it) and passes
    the call to the nearest PSAP; the case is kept under the fixed window (HV-R4)."""
    incident = _incident()
    call = hv_call(vin, incident, lat=lat, lon=lon)
    await path.relay().handle(hv_warn_topic(vin), pack_hv_call(call))
    await _through_callcentre(path)
    view = path.cases.case(incident).view()
    assert (view["variant"], view["psap"], view["service"]) == ("hv_warn", desk, "hv_warn_call")
    assert view["extras"]["contact"] == (asdict(CONTACT) if contact else None)
    tag = path.cases.tags[keys.case_key(incident)]
    assert (catalogue_entry(tag.service).retention.kind, tag.written_at) == (
        "fixed_window", call.timestamp)
    record = path.incidents.record(incident)
    assert (record.desk, record.via, record.variant, record.vin) == (
        desk, "callcentre", "hv_warn", vin)


async def test_desks_hv_warn_call_delivered_twice_is_one_case(path: EcallPath) -> None:
    incident = _incident()
    await path.relay().handle(hv_warn_topic(KNOWN_CUSTOMER_VIN),
                              pack_hv_call(hv_call(KNOWN_CUSTOMER_VIN, incident)))
    [(entry_id, fields)] = path.oem.entries[keys.CALLCENTRE_STREAM].items()
    desk = path.callcentre()
    for again in (entry_id, "99-0"):
        await desk.record(keys.CALLCENTRE_STREAM, again, fields, time.time_ns())
    assert len(path.cases.case(incident).transmissions) == 1
    assert len(path.psap.stream(PSAP_BE)) == 1
    assert path.count("metrics:desks", "callcentre:hv_warn") == 1


async def test_desks_restarted_desk_records_its_pending_entries_first(path: EcallPath) -> None:
    """Read but never acknowledged (the desk died): the desk back under the same name finds
    it among its pending entries."""
    incident = _incident()
    await path.relay().handle(*ecall("legal", new_vin(), incident))
    await path.psap.read_group(keys.PSAP_GROUP, "c", {PSAP_BE: ">"}, count=10, block_ms=None)
    assert await path.psap_desks().drain(pending=False, block_ms=None) == 0
    assert await path.psap_desks().drain(pending=True, block_ms=None) == 1
    assert incident in path.incidents.hashes
    assert path.psap.pending(PSAP_BE, keys.PSAP_GROUP) == {}


async def test_desks_claim_what_a_dead_desk_left_pending(path: EcallPath) -> None:
    incident = _incident()
    await path.relay().handle(*ecall("legal", new_vin(), incident))
    await path.psap.read_group(keys.PSAP_GROUP, "dead", {PSAP_BE: ">"}, count=10,
                               block_ms=None)
    live = path.psap_desks("live")
    assert await live.claim_abandoned() == 0  # not idle long enough yet
    path.psap.now_ms += CLAIM_IDLE_MS
    assert await live.claim_abandoned() == 1
    assert incident in path.incidents.hashes


async def test_desks_store_outage_leaves_the_entry_pending(path: EcallPath) -> None:
    """A store that does not answer is not the entry's fault: not parked, not acked."""
    await path.relay().handle(*ecall("legal", new_vin(), _incident()))
    desks = path.psap_desks()
    [delivery] = await path.psap.read_group(keys.PSAP_GROUP, "c", {PSAP_BE: ">"}, count=10,
                                            block_ms=None)
    path.incidents.unreachable = True
    with pytest.raises(RedisError):
        await desks.drain(pending=True, block_ms=None)
    assert path.psap.pending(PSAP_BE, keys.PSAP_GROUP) == {delivery.entry_id: "c"}
    assert PSAP_BE not in path.psap.dead


async def test_desks_run_records_what_arrives_until_stopped(path: EcallPath) -> None:
    """The desk loop, recovering first and then waiting on its stream, records an eCall
    that arrives while it runs, and stops when told."""
    stop = asyncio.Event()
    running = asyncio.create_task(path.psap_desks().run(stop))
    incident = _incident()
    await path.relay().handle(*ecall("legal", new_vin(), incident))
    await asyncio.wait_for(path.incidents.applied.wait(), 5)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert incident in path.incidents.hashes

