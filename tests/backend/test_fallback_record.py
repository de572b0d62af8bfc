"""A PSAP's one record of an incident the car reached it by several channels: the same
record whatever order the channels arrive in (docs/requirements.md#ecall-r1)."""

from __future__ import annotations

from itertools import permutations

import pytest

from backend.emergency.desks import call_variant, next_psap_incident
from backend.emergency.entries import EcallEntry, HandOver, PsapEntry, VoiceEntry
from backend.emergency.records import PsapIncident, Transmission

VIN = "WMW31DH0X0T700001"
INCIDENT = "700001-late"


def _msd(msg_id: int) -> dict[str, object]:
    return {"msdStructure": {"messageIdentifier": msg_id}}


def _legal(msg_id: int) -> EcallEntry:
    return EcallEntry(variant="legal", incident=INCIDENT, msg_id=msg_id, msd=b"", sent_ns=msg_id,
                      relay_ns=msg_id, psap="psap-DE", psap_reason="position")


HAND_OVER = HandOver(variant="intelligent", incident=INCIDENT, msg_id=1, sent_ns=1,
                     psap_reason="callcentre", msd=b"", extras={"p_serious_injury": 0.2})
VOICE = VoiceEntry(incident=INCIDENT, sent_ns=4, relay_ns=4, psap="psap-DE",
                   psap_reason="network country")


def _apply(order: tuple[PsapEntry, ...]) -> PsapIncident:
    record: PsapIncident | None = None
    for at, entry in enumerate(order):
        sent = Transmission.received(kind=entry.KIND, variant=call_variant(entry),
                                     msg_id=entry.msg_id, sent_ns=0, received_ns=at + 1,
                                     entry=f"{at}-0")
        msd = None if isinstance(entry, VoiceEntry) else _msd(entry.msg_id)
        extras = entry.extras if isinstance(entry, HandOver) else None
        record = next_psap_incident(record, entry=entry, desk="psap-DE", sent=sent, msd=msd,
                                    extras=extras, vin=VIN) or record
    assert record is not None
    return record


@pytest.mark.parametrize("order", list(permutations((HAND_OVER, _legal(2), VOICE))))
def test_fallback_record_ends_on_the_voice_call_in_any_order(
        order: tuple[PsapEntry, ...]) -> None:
    """Intelligent (handed over), Legal, voice: however they arrive, the car finally made
    the voice call, the MSD is the Legal #2, the extras the hand-over's, and no update."""
    view = _apply(order).view()
    assert (view["final_channel"], view["variant"], view["kind"], view["via"],
            view["psap_reason"]) == ("voice", "psap_voice", "voice", "direct", "network country")
    assert view["updates"] == 0
    assert view["msd"] == _msd(2) and view["extras"] == HAND_OVER.extras
    assert sorted(t["channel"] for t in view["transmissions"]) == ["handover", "legal", "voice"]


@pytest.mark.parametrize("order", list(permutations((HAND_OVER, _legal(2), _legal(3)))))
def test_fallback_record_counts_the_one_update_in_any_order(
        order: tuple[PsapEntry, ...]) -> None:
    """Legal #3 answers an operator's request after the fallback: one update, on Legal,
    and the record ends on Legal with the MSD #3."""
    view = _apply(order).view()
    assert (view["final_channel"], view["via"], view["updates"]) == ("legal", "direct", 1)
    assert [t["msg_id"] for t in view["transmissions"] if t["update"]] == [3]
    assert view["msd"] == _msd(3)


def test_fallback_record_hand_over_alone_is_the_intelligent_call() -> None:
    """When the car stayed on Intelligent eCall the record is the call centre's hand-over."""
    view = _apply((HAND_OVER,)).view()
    assert (view["final_channel"], view["variant"], view["via"], view["updates"]) == (
        "intelligent", "intelligent", "callcentre", 0)
