"""A car's OTA records: the event as current state and history entry, what was sent."""

from __future__ import annotations

import json

from backend.ota.car_history import CommandSent, EventRecord, OfferSent
from protocols.ota import OtaEvent

T0 = 1_767_225_600.0
EVENT = OtaEvent(vin="WMW11GD0X0T000001", campaign_id="c-1", version="25-03.2",
                 state="downloading", at=T0, bytes_done=1_000, bytes_total=4_000_000_000,
                 channel="wifi", reason=None, running_version="24-11.1", sent_ns=42)


def test_car_history_event_as_state_round_trips_and_as_entry_names_no_car() -> None:
    record = EventRecord.of(EVENT, received_at=T0 + 1)
    stored = {str(k).encode(): str(v).encode() for k, v in record.to_fields().items()}
    assert EventRecord.from_fields(stored) == record
    assert record.view()["vin"] == EVENT.vin
    assert (record.view()["reason"], record.view()["service"]) == (None, "rsu")
    entry = json.loads(record.to_entry())
    assert entry == {"kind": "event", "service": "rsu", "campaign_id": "c-1",
                     "version": "25-03.2", "state": "downloading", "reason": None, "at": T0,
                     "bytes_done": 1_000, "bytes_total": 4_000_000_000, "channel": "wifi",
                     "running_version": "24-11.1", "sent_ns": 42, "received_at": T0 + 1}


def test_car_history_reads_a_state_an_older_version_wrote() -> None:
    """The old state hash carried a copy of its rule; it reads as the record all the same."""
    record = EventRecord.of(EVENT, received_at=T0)
    stored = {str(k).encode(): str(v).encode() for k, v in record.to_fields().items()}
    assert EventRecord.from_fields({**stored, b"retention_rule": b"vehicle_lifetime"}) == record


def test_car_history_sent_entries_by_kind() -> None:
    offer = OfferSent(campaign_id="c-1", version="25-03.2", size_bytes=4_000_000_000,
                      critical=False, group="pilot", at=T0)
    cancel = CommandSent(campaign_id="c-1", action="cancel", by="backend", at=T0 + 5)
    assert json.loads(offer.to_entry()) == {
        "kind": "offer", "service": "rsu", "campaign_id": "c-1", "version": "25-03.2",
        "size_bytes": 4_000_000_000, "critical": False, "group": "pilot", "at": T0}
    assert json.loads(cancel.to_entry()) == {
        "kind": "command", "service": "rsu", "campaign_id": "c-1", "action": "cancel",
        "by": "backend", "at": T0 + 5}
