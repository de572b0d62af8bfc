"""What the backend keeps of one car's OTA traffic, as typed records; pure.

Three records per car, each tagged under the catalogue's ``rsu`` for the vehicle's
lifetime (MINI Connected §15, OTA-R6; ``backend.ota.lane`` writes them):

* ``EventRecord``: one event the car reported. The latest is the car's current state
  (a hash, ``to_fields`` / ``from_fields``); every one is an entry of its history.
* ``OfferSent`` and ``CommandSent``: what the backend sent the car, entries of a list.

History entries are JSON objects named by their ``kind`` (``event``, ``offer``,
``command``) and ``service``; they are shown as they were written, in the car's order.
None of them holds a retention rule: the tag of the key they live in holds it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Final, Self

from backend.infra.hash_record import HashRecord
from protocols.ota import (
    CommandAction,
    CommandSource,
    DownloadChannel,
    OtaEvent,
    OtaReason,
    OtaStateName,
)

SERVICE: Final = "rsu"  # Remote Software Upgrade, §15


def _entry(kind: str, fields: dict[str, Any]) -> str:
    return json.dumps({"kind": kind, "service": SERVICE, **fields}, sort_keys=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord(HashRecord):
    """One ``OtaEvent`` as the backend received it, at its own clock's ``received_at``."""

    vin: str
    service: str = SERVICE
    campaign_id: str
    version: str
    state: OtaStateName
    reason: OtaReason | None
    at: float
    bytes_done: int
    bytes_total: int
    channel: DownloadChannel | None
    running_version: str
    sent_ns: int
    received_at: float

    @classmethod
    def of(cls, event: OtaEvent, *, received_at: float) -> Self:
        return cls(vin=event.vin, campaign_id=event.campaign_id, version=event.version,
                   state=event.state, reason=event.reason, at=event.at,
                   bytes_done=event.bytes_done, bytes_total=event.bytes_total,
                   channel=event.channel, running_version=event.running_version,
                   sent_ns=event.sent_ns, received_at=received_at)

    def to_entry(self) -> str:
        """The history entry; the car is the list's, so the entry does not repeat it."""
        fields = asdict(self)
        del fields["vin"], fields["service"]
        return _entry("event", fields)

    def view(self) -> dict[str, Any]:
        """The car's current state as the API shows it."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferSent:
    """A campaign offered to the car, with the group it was offered in."""

    campaign_id: str
    version: str
    size_bytes: int
    critical: bool
    group: str
    at: float

    def to_entry(self) -> str:
        return _entry("offer", asdict(self))


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandSent:
    """A command sent to the car: the backend's withdrawal, or the customer's from the app."""

    campaign_id: str
    action: CommandAction
    by: CommandSource
    at: float

    def to_entry(self) -> str:
        return _entry("command", asdict(self))
