"""OTA wire records: the 1-10 GB download size, the event budget and the round trips."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from protocols.errors import EnvelopeError
from protocols.ota import (
    GB,
    OTA_EVENT_MAX,
    OTA_EVENT_RULE,
    OtaCommand,
    OtaEvent,
    OtaOffer,
    pack_ota_command,
    pack_ota_event,
    pack_ota_offer,
    unpack_ota_command,
    unpack_ota_event,
    unpack_ota_offer,
)
from protocols.record_codec import RECORD_VERSION


def _offer(**changes: Any) -> OtaOffer:
    values: dict[str, Any] = {
        "campaign_id": "rsu-2024-07", "version": "24-07-550", "size_bytes": 3 * GB,
        "critical": False, "release_notes": "Navigation fixes.", "sent_ns": 5,
    }
    return OtaOffer(**(values | changes))


def _event(**changes: Any) -> OtaEvent:
    values: dict[str, Any] = {
        "vin": "WMW11GD0X0T000001", "campaign_id": "rsu-2024-07", "version": "24-07-550",
        "state": "downloading", "at": 1_700_000_000.0, "bytes_done": GB, "bytes_total": 3 * GB,
        "channel": "wifi", "reason": None, "running_version": "24-03-530", "sent_ns": 9,
    }
    return OtaEvent(**(values | changes))


def _raw(kind: str, body: dict[str, Any]) -> bytes:
    data: bytes = msgpack.packb(body | {"v": RECORD_VERSION, "k": kind}, use_bin_type=True)
    return data


@pytest.mark.parametrize("size", [GB, 10 * GB, 5 * GB + 1])
def test_ota_offer_accepts_sizes_from_1_to_10_gb(size: int) -> None:
    """Sizes inside §15's 1-10 GB range round-trip unchanged."""
    offer = _offer(size_bytes=size)
    assert unpack_ota_offer(pack_ota_offer(offer)) == offer


@pytest.mark.parametrize("size", [GB - 1, 10 * GB + 1, 0, -1, True])
def test_ota_offer_refuses_sizes_outside_1_to_10_gb(size: object) -> None:
    """A size outside 1-10 GB (or not an integer) is refused and names size_bytes."""
    with pytest.raises(EnvelopeError) as info:
        _offer(size_bytes=size)
    assert info.value.field == "size_bytes"


def test_ota_offer_unpack_refuses_size_outside_range_on_the_wire() -> None:
    """An offer built elsewhere with an 11 GB size fails when read."""
    body = {"campaign_id": "c", "version": "v", "size_bytes": 11 * GB, "critical": False,
            "release_notes": "", "sent_ns": 0}
    with pytest.raises(EnvelopeError) as info:
        unpack_ota_offer(_raw("ota_offer", body))
    assert info.value.field == "size_bytes"


def test_ota_offer_unpack_refuses_int_as_critical() -> None:
    """critical must be a bool on the wire, not 0/1."""
    body = {"campaign_id": "c", "version": "v", "size_bytes": GB, "critical": 1,
            "release_notes": "", "sent_ns": 0}
    with pytest.raises(EnvelopeError) as info:
        unpack_ota_offer(_raw("ota_offer", body))
    assert info.value.field == "critical"


def test_ota_event_round_trips_within_budget() -> None:
    """A state-change event packs under 2,000 bytes and reads back equal."""
    event = _event(state="refused", reason="battery_low", channel=None)
    data = pack_ota_event(event)
    assert len(data) <= OTA_EVENT_MAX
    assert unpack_ota_event(data) == event


def test_ota_event_largest_valid_event_fits_budget() -> None:
    """Every field at its longest still packs under the 2,000-byte budget."""
    event = _event(vin="W" * 17, campaign_id="c" * 64, version="v" * 32,
                   state="awaiting_confirmation", reason="download_interrupted",
                   running_version="r" * 32, bytes_done=10 * GB, bytes_total=10 * GB,
                   sent_ns=2**63 - 1)
    assert len(pack_ota_event(event)) <= OTA_EVENT_MAX


def test_ota_event_unpack_refuses_over_budget() -> None:
    """Bytes over 2,000 are refused before any field is read."""
    body = {"vin": "V", "campaign_id": "c", "version": "v", "state": "idle", "at": 0.0,
            "bytes_done": 0, "bytes_total": GB, "channel": None, "reason": None,
            "running_version": "x" * 3000, "sent_ns": 0}
    with pytest.raises(EnvelopeError) as info:
        unpack_ota_event(_raw("ota_event", body))
    assert info.value.rule == OTA_EVENT_RULE


@pytest.mark.parametrize(("field", "value"), [
    ("state", "paused"), ("reason", "too_hot"), ("channel", "bluetooth"),
    ("bytes_done", 4 * GB), ("bytes_total", 11 * GB), ("vin", ""), ("at", -1.0),
])
def test_ota_event_refuses_field_outside_contract(field: str, value: object) -> None:
    """Unknown states, reasons, channels and impossible byte counts name their field."""
    with pytest.raises(EnvelopeError) as info:
        _event(**{field: value})
    assert info.value.field == field


def test_ota_event_unpack_refuses_unknown_field() -> None:
    """Only contract fields are accepted on the wire."""
    body = {"vin": "V", "campaign_id": "c", "version": "v", "state": "idle", "at": 0.0,
            "bytes_done": 0, "bytes_total": GB, "channel": None, "reason": None,
            "running_version": "r", "sent_ns": 0, "location": [50.8, 4.3]}
    with pytest.raises(EnvelopeError) as info:
        unpack_ota_event(_raw("ota_event", body))
    assert info.value.rule == "only contract fields"


def test_ota_command_round_trips() -> None:
    """A confirmation from the app reads back equal."""
    command = OtaCommand(campaign_id="rsu-2024-07", action="confirm", by="app")
    assert unpack_ota_command(pack_ota_command(command)) == command


@pytest.mark.parametrize(("field", "value"), [("action", "install_now"), ("by", "dealer")])
def test_ota_command_refuses_unknown_action_or_source(field: str, value: str) -> None:
    """Only the customer, in the car or the app, confirms, cancels or retries."""
    values: dict[str, Any] = {"campaign_id": "c", "action": "confirm", "by": "car"}
    with pytest.raises(EnvelopeError) as info:
        OtaCommand(**(values | {field: value}))
    assert info.value.field == field


def test_ota_unpack_refuses_wrong_kind() -> None:
    """An event's bytes are not read as an offer."""
    with pytest.raises(EnvelopeError) as info:
        unpack_ota_offer(pack_ota_event(_event()))
    assert info.value.field == "k"
