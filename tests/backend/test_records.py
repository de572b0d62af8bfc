"""The eCall path's stream entries and stored records: written and read back in one place,
bytes or text alike, a malformed one named by its field."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import pytest

from backend.emergency.entries import (
    EcallEntry,
    HandOver,
    HvWarnEntry,
    VoiceEntry,
    callcentre_entry,
    psap_entry,
)
from backend.emergency.errors import MalformedEntryError
from backend.emergency.psap_directory import responsible_psap
from backend.emergency.records import (
    CallCentreCase,
    EcallDetail,
    HvDetail,
    PsapIncident,
    Transmission,
    already_applied,
)
from backend.emergency.relay import psap_for
from protocols.envelope import EcallMessage, IntelligentExtras
from protocols.errors import EnvelopeError
from protocols.hv import HvWarnCall, pack_hv_call
from protocols.msd.codec import encode_msd
from protocols.msd.jsonform import msd_to_json
from tests.backend.support import make_msd, new_vin
from tests.fakes import as_stored

VIN = new_vin()
EXTRAS = IntelligentExtras(2, 1, 56.0, "frontal", False, False, "severe", 0.31, True, "m")


def _ecall(variant: str = "legal") -> EcallEntry:
    msd = make_msd(VIN)
    message = EcallMessage("intelligent" if variant == "intelligent" else "legal", VIN, "inc-1",
                           1, encode_msd(msd), 1_000, "BE",
                           EXTRAS if variant == "intelligent" else None)
    return EcallEntry.of(message, msd, psap_for(msd, "BE"), 2_000)


def _hv_call() -> HvWarnCall:
    return HvWarnCall(vin=VIN, lat=50.8467, lon=4.3525, model="BEV", plug_state="plugged",
                      incident="hv-1", timestamp=1_767_225_600.0, doors={"front_left": "closed"},
                      boot="closed", engine_state="off", ignition="off", sent_ns=5)


def _as_text(raw: dict[bytes, bytes]) -> dict[str, str]:
    """What a connection that decodes responses hands back."""
    return {k.decode(): v.decode(errors="surrogateescape") for k, v in raw.items()}


def test_records_ecall_entries_round_trip_as_bytes() -> None:
    """A Legal and an Intelligent eCall entry read back equal from Redis's bytes."""
    legal, intelligent = _ecall("legal"), _ecall("intelligent")
    assert psap_entry(as_stored(legal.to_fields())) == legal
    assert callcentre_entry(as_stored(intelligent.to_fields())) == intelligent


def test_records_entries_round_trip_as_text() -> None:
    """A voice call and a hand-over read back equal from a connection that decodes text."""
    voice = VoiceEntry(incident="call-1", sent_ns=3, relay_ns=4, psap="psap-SI",
                       psap_reason="network_country")
    handover = HandOver(variant="hv_warn", incident="hv-1", msg_id=1, sent_ns=5,
                        psap_reason="position", extras={"vin": VIN, "contact": None})
    for entry in (voice, handover):
        assert psap_entry(_as_text(as_stored(entry.to_fields()))) == entry


def test_records_ecall_entry_of_a_legal_ecall_holds_nothing_of_the_car_beside_the_msd() -> None:
    """ECALL-R5: a Legal eCall's entry has no VIN, decoded MSD or extras of its own."""
    fields = _ecall("legal").to_fields()
    assert {"vin", "msd_json", "extras"}.isdisjoint(fields)
    assert fields["psap"] == "psap-BE"


def test_records_intelligent_entry_carries_the_relays_decoding() -> None:
    """The call centre reads the MSD the relay decoded; a Legal entry has none to give."""
    assert _ecall("intelligent").decoded_msd() == msd_to_json(make_msd(VIN))
    with pytest.raises(MalformedEntryError) as missing:
        _ecall("legal").decoded_msd()
    assert missing.value.field == "msd_json"


def test_records_hv_warn_entry_passes_the_cars_record_unchanged() -> None:
    """The warn call is handed on as the car framed it and read back into the call."""
    record = pack_hv_call(_hv_call())
    entry = HvWarnEntry(call=_hv_call(), record=record, relay_ns=7)
    stored = as_stored(entry.to_fields())
    assert stored[b"record"] == record
    assert callcentre_entry(stored) == entry


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({b"msg_id": b"one"}, "msg_id", "integer"),
    ({b"variant": b"loud"}, "variant", "intelligent|legal"),
    ({b"kind": b"telemetry"}, "kind", "ecall|voice|handover"),
    ({b"extras": b"[1, 2]"}, "extras", "JSON object"),
    ({b"extras": b"{not json"}, "extras", "JSON object"),
    ({b"extras": b'{"occupants": 2}'}, "extras", "the fields of IntelligentExtras"),
    ({b"psap_reason": b"\xff\xfe"}, "psap_reason", "UTF-8 text"),
])
def test_records_malformed_entry_names_its_field(change: dict[bytes, bytes], field: str,
                                                 rule: str) -> None:
    raw = as_stored(_ecall("legal").to_fields()) | change
    with pytest.raises(MalformedEntryError) as malformed:
        psap_entry(raw)
    assert (malformed.value.field, malformed.value.rule) == (field, rule)


def test_records_entry_without_a_required_field_names_it() -> None:
    raw = as_stored(_ecall("legal").to_fields())
    del raw[b"msd"]
    with pytest.raises(MalformedEntryError, match="no msd") as missing:
        psap_entry(raw)
    assert (missing.value.field, missing.value.rule) == ("msd", "required")


def test_records_extras_breaking_the_contract_are_the_contracts_error() -> None:
    """Extras with the right names but a probability above 1 fail as the wire would."""
    raw = as_stored(_ecall("intelligent").to_fields())
    raw[b"extras"] = json.dumps(asdict(EXTRAS) | {"p_serious_injury": 1.5}).encode()
    with pytest.raises(EnvelopeError) as refused:
        callcentre_entry(raw)
    assert refused.value.field == "extras.p_serious_injury"


def _sent(*, entry: str = "1-0", kind: str | None = "ecall", msg_id: int = 1) -> Transmission:
    return Transmission(msg_id=msg_id, sent_ns=0, received_ns=0, latency_ms=0.0, kind=kind,
                        entry=entry)


def test_records_already_applied_by_entry_or_by_kind_and_message_id() -> None:
    """The same entry, or the same kind and messageIdentifier, counts as applied."""
    history = [_sent(entry="5-0", kind="ecall", msg_id=1)]
    assert already_applied(history, _sent(entry="5-0", kind="ecall", msg_id=9))
    assert already_applied(history, _sent(entry="6-0", kind="ecall", msg_id=1))
    assert not already_applied(history, _sent(entry="6-0", kind="ecall", msg_id=2))
    # A Legal eCall and the call centre's hand-over of the same incident are two channels.
    assert not already_applied(history, _sent(entry="7-0", kind="handover", msg_id=1))


def test_records_already_applied_reads_records_written_before_kinds_were_kept() -> None:
    """An older transmission without kind or entry still blocks its messageIdentifier."""
    old = Transmission.from_view({"msg_id": 1, "sent_ns": 0, "received_ns": 5,
                                  "latency_ms": 0.1})
    assert (old.kind, old.entry) == (None, None)
    assert already_applied([old], _sent(entry="9-0", msg_id=1))
    assert old.view() == {"msg_id": 1, "sent_ns": 0, "received_ns": 5, "latency_ms": 0.1}


def _incident() -> PsapIncident:
    sent = Transmission.received(kind="ecall", variant="legal", msg_id=1, sent_ns=1_000_000,
                                 received_ns=3_500_000,
                                 entry="1-0")
    return PsapIncident(incident="inc-1", desk="psap-BE", kind="ecall", variant="legal",
                        via="direct", psap_reason="position", transmissions=(sent,),
                        received_ns=3_500_000, latency_ms=sent.latency_ms,
                        last_received_ns=3_500_000, vin=VIN, msd=msd_to_json(make_msd(VIN)))


def test_records_psap_incident_round_trips_and_shows_its_stored_names() -> None:
    """The view has the stored names, nested values parsed, updates counted."""
    incident = _incident()
    stored = as_stored(incident.to_fields())
    assert PsapIncident.from_fields(stored) == incident
    assert PsapIncident.from_fields(_as_text(stored)) == incident
    view = incident.view()
    assert view["latency_ms"] == 2.5
    assert (view["updates"], view["transmissions"][0]["entry"]) == (0, "1-0")
    assert view["msd"]["msdStructure"]["vehicleDirection"] == 45
    assert "extras" not in view


def _case(detail: EcallDetail | HvDetail) -> CallCentreCase:
    sent = Transmission.received(kind="ecall", variant="intelligent", msg_id=1, sent_ns=0,
                                 received_ns=1_000_000,
                                 entry="1-0")
    return CallCentreCase(incident="inc-1", vin=VIN, status="open", psap="psap-BE",
                          transmissions=(sent,), opened_ns=1_000_000, received_ns=1_000_000,
                          last_received_ns=1_000_000, latency_ms=1.0, detail=detail)


HV_DETAIL = HvDetail(psap_reason="position", extras={"vin": VIN, "contact": None},
                     within_warning_limit=True, delete_after=1_782_777_600.0)


@pytest.mark.parametrize("detail", [EcallDetail(msd_to_json(make_msd(VIN))), HV_DETAIL])
def test_records_cases_round_trip_and_keep_no_rule_of_their_own(
        detail: EcallDetail | HvDetail) -> None:
    """Both kinds of case read back as written; the rule is the tag's, not a field."""
    case = _case(detail)
    fields = case.to_fields()
    assert CallCentreCase.from_fields(as_stored(fields)) == case
    assert "retention_rule" not in fields
    assert fields["service"] == ("hv_warn_call" if detail is HV_DETAIL else "ecall_intelligent")


def test_records_case_closed_by_the_api_reads_back() -> None:
    """The close route writes status and closed_at over the case; both read back."""
    now = time.time()
    stored = as_stored(_case(HV_DETAIL).to_fields()) | {b"status": b"closed",
                                                         b"closed_at": repr(now).encode()}
    case = CallCentreCase.from_fields(stored)
    assert (case.status, case.closed_at) == ("closed", now)
    assert case.view()["closed_at"] == repr(now)
    assert case.view()["within_warning_limit"] == 1


def test_records_case_with_an_unknown_status_is_malformed() -> None:
    stored = as_stored(_case(HV_DETAIL).to_fields()) | {b"status": b"lost"}
    with pytest.raises(MalformedEntryError) as malformed:
        CallCentreCase.from_fields(stored)
    assert malformed.value.field == "status"


def test_records_psap_for_an_unknown_position_falls_back_to_the_network_country() -> None:
    """No trusted position: the PSAP of the network the call was placed in, else INTL."""
    lost = make_msd(VIN, lat=0.0, lon=0.0)
    assert psap_for(lost, "NL") == responsible_psap(None, None, network_country="NL")
    assert psap_for(lost, "NL").reason == "network_country"
    assert (psap_for(lost, "US").psap.desk, psap_for(lost, "US").reason) == (
        "psap-INTL", "outside_directory")
