"""Remote Software Upgrade (OTA) records on the wire (MINI Connected §15 and art. 4.8).

Rules are cited by their ids in docs/requirements.md (docs/requirements.md#ota).

Three records, one per direction and purpose:

* ``OtaOffer`` (backend -> car): a campaign is available. §15 says the update size is
  "part of the update information" shown to the customer and that a download is "1 to
  10 GB" (*1 tot 10 GB voor elke download vóór de installatie*, OTA-R1),
  so ``size_bytes`` is checked against that range, GB read as 10**9 bytes as KB is read
  as 1000 bytes elsewhere in the contract.
* ``OtaEvent`` (car -> backend): one per state change of the car's update machine
  (``vehicle_sim.ota_machine``), with the download progress and the version the car
  runs. The catalogue gives no per-event OTA volume, only the download size (OTA-R1);
  the 2,000-byte budget is this contract's own bound, chosen because a state change is
  a handful of short fields, and it keeps the events of a campaign negligible next to
  the download itself.
* ``OtaCommand`` (app or car display -> car): "every installation must be started
  manually", in the car or remotely via the app (art. 4.8, OTA-R2), so installing
  starts only on a ``confirm`` command. The backend sends ``cancel`` by ``backend``
  when an operator cancels a campaign or a car's action times out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from protocols.errors import EnvelopeError
from protocols.record_codec import FieldTypes, check_epoch_seconds, pack_record, unpack_record

GB: Final = 1_000_000_000
MIN_DOWNLOAD: Final = 1 * GB  # §15 volume: "1 tot 10 GB" (OTA-R1)
MAX_DOWNLOAD: Final = 10 * GB
SIZE_RULE: Final = "1..10 GB per download (catalogue §15)"

OTA_EVENT_MAX: Final = 2_000  # bytes; own bound, the catalogue gives none per event
OTA_EVENT_RULE: Final = "at most 2,000 bytes per OTA event (contract bound; §15 sets none)"
OTA_OFFER_MAX: Final = 16_000  # bytes; own bound, leaves room for the release notes
OTA_OFFER_RULE: Final = "at most 16,000 bytes per OTA offer (contract bound; §15 sets none)"
OTA_COMMAND_MAX: Final = 2_000
OTA_COMMAND_RULE: Final = "at most 2,000 bytes per OTA command (contract bound)"
MAX_RELEASE_NOTES: Final = 8_000  # characters

OTA_OFFER_KIND: Final = "ota_offer"
OTA_EVENT_KIND: Final = "ota_event"
OTA_COMMAND_KIND: Final = "ota_command"

OtaStateName = Literal[
    "idle", "notified", "downloading", "downloaded", "awaiting_confirmation",
    "installing", "done", "failed", "rolled_back", "waiting_ecall", "refused",
]
DownloadChannel = Literal["sim", "wifi", "app"]  # §15: app, Wi-Fi or the built-in SIM
OtaReason = Literal[
    "os_too_old", "battery_low", "not_parked", "ecall_active", "service_switched_off",
    "download_interrupted", "install_failed", "rolled_back", "timeout", "cancelled",
]
CommandAction = Literal["confirm", "cancel", "retry"]
CommandSource = Literal["car", "app", "backend"]  # backend: the campaign was withdrawn

OTA_STATES: Final = frozenset(get_args(OtaStateName))
DOWNLOAD_CHANNELS: Final = frozenset(get_args(DownloadChannel))
OTA_REASONS: Final = frozenset(get_args(OtaReason))
COMMAND_ACTIONS: Final = frozenset(get_args(CommandAction))
COMMAND_SOURCES: Final = frozenset(get_args(CommandSource))


@dataclass(frozen=True, slots=True, kw_only=True)
class OtaOffer:
    """A campaign offered to one car; the size is shown to the customer (§15)."""

    campaign_id: str
    version: str
    size_bytes: int
    critical: bool
    release_notes: str
    sent_ns: int

    def __post_init__(self) -> None:
        _text(self.campaign_id, "campaign_id", 64)
        _text(self.version, "version", 32)
        check_download_size(self.size_bytes)
        if not isinstance(self.critical, bool):
            raise EnvelopeError("critical must be a bool", field="critical", rule="bool")
        if not isinstance(self.release_notes, str) or len(self.release_notes) > MAX_RELEASE_NOTES:
            raise EnvelopeError("release notes too long", field="release_notes",
                                rule=f"at most {MAX_RELEASE_NOTES} chars")
        _sent_ns(self.sent_ns)


@dataclass(frozen=True, slots=True, kw_only=True)
class OtaEvent:
    """One state change of the car's update machine, as the backend stores it.

    ``at`` is the car's (virtual) epoch seconds; ``reason`` is the refusal or failure
    code, None when there is none; ``running_version`` is what the car runs now.
    """

    vin: str
    campaign_id: str
    version: str
    state: OtaStateName
    at: float
    bytes_done: int
    bytes_total: int
    channel: DownloadChannel | None
    reason: OtaReason | None
    running_version: str
    sent_ns: int

    def __post_init__(self) -> None:
        _text(self.vin, "vin", 17)
        _text(self.campaign_id, "campaign_id", 64)
        _text(self.version, "version", 32)
        _one_of(self.state, OTA_STATES, "state")
        check_epoch_seconds(self.at, field="at")
        check_download_size(self.bytes_total, field="bytes_total")
        if not isinstance(self.bytes_done, int) or not 0 <= self.bytes_done <= self.bytes_total:
            raise EnvelopeError(f"bytes_done {self.bytes_done}", field="bytes_done",
                                rule="0..bytes_total")
        if self.channel is not None:
            _one_of(self.channel, DOWNLOAD_CHANNELS, "channel")
        if self.reason is not None:
            _one_of(self.reason, OTA_REASONS, "reason")
        _text(self.running_version, "running_version", 32)
        _sent_ns(self.sent_ns)


@dataclass(frozen=True, slots=True, kw_only=True)
class OtaCommand:
    """The customer's action on a campaign, from the car's display or the app (OTA-R2)."""

    campaign_id: str
    action: CommandAction
    by: CommandSource

    def __post_init__(self) -> None:
        _text(self.campaign_id, "campaign_id", 64)
        _one_of(self.action, COMMAND_ACTIONS, "action")
        _one_of(self.by, COMMAND_SOURCES, "by")


def check_download_size(size: object, *, field: str = "size_bytes") -> None:
    """Refuse a download size outside §15's "1 tot 10 GB" (bools are not sizes)."""
    if isinstance(size, bool) or not isinstance(size, int) or not (
            MIN_DOWNLOAD <= size <= MAX_DOWNLOAD):
        raise EnvelopeError(f"download size {size!r}", field=field, rule=SIZE_RULE)


def pack_ota_offer(offer: OtaOffer) -> bytes:
    """Serialise an offer; refuses one over its budget."""
    return pack_record(offer, OTA_OFFER_KIND, limit=OTA_OFFER_MAX, rule=OTA_OFFER_RULE)


def unpack_ota_offer(data: bytes) -> OtaOffer:
    """Parse and check an offer; every failure is an EnvelopeError naming the field."""
    return unpack_record(data, OtaOffer, OTA_OFFER_KIND, limit=OTA_OFFER_MAX,
                         rule=OTA_OFFER_RULE, types=_OFFER_TYPES)


def pack_ota_event(event: OtaEvent) -> bytes:
    """Serialise a state-change event; refuses one over the 2,000-byte budget."""
    return pack_record(event, OTA_EVENT_KIND, limit=OTA_EVENT_MAX, rule=OTA_EVENT_RULE)


def unpack_ota_event(data: bytes) -> OtaEvent:
    """Parse and check a state-change event."""
    return unpack_record(data, OtaEvent, OTA_EVENT_KIND, limit=OTA_EVENT_MAX,
                         rule=OTA_EVENT_RULE, types=_EVENT_TYPES)


def pack_ota_command(command: OtaCommand) -> bytes:
    """Serialise a customer command."""
    return pack_record(command, OTA_COMMAND_KIND, limit=OTA_COMMAND_MAX,
                       rule=OTA_COMMAND_RULE)


def unpack_ota_command(data: bytes) -> OtaCommand:
    """Parse and check a customer command."""
    return unpack_record(data, OtaCommand, OTA_COMMAND_KIND, limit=OTA_COMMAND_MAX,
                         rule=OTA_COMMAND_RULE, types=_COMMAND_TYPES)


_NONE = type(None)
_OFFER_TYPES: Final[FieldTypes] = {
    "campaign_id": str, "version": str, "size_bytes": int, "critical": bool,
    "release_notes": str, "sent_ns": int,
}
_EVENT_TYPES: Final[FieldTypes] = {
    "vin": str, "campaign_id": str, "version": str, "state": str, "at": (float, int),
    "bytes_done": int, "bytes_total": int, "channel": (str, _NONE), "reason": (str, _NONE),
    "running_version": str, "sent_ns": int,
}
_COMMAND_TYPES: Final[FieldTypes] = {"campaign_id": str, "action": str, "by": str}


def _text(value: object, name: str, max_len: int) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise EnvelopeError(f"{name} must be 1..{max_len} chars", field=name,
                            rule=f"1..{max_len} chars")


def _sent_ns(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EnvelopeError(f"sent_ns {value!r}", field="sent_ns", rule="int >= 0")


def _one_of(value: object, allowed: frozenset[str], name: str) -> None:
    if value not in allowed:
        raise EnvelopeError(f"{name} is {value!r}", field=name, rule="|".join(sorted(allowed)))
