"""What the relay and the desks need of the world outside them, and nothing more.

Three edges: the broker link (the relay acknowledges each call to its car), the
stores (append to a stream once, read it through a consumer group, acknowledge, apply a
record update once), and the customer contacts the call centre adds to an HV warn call,
held in the customer profile a higher layer owns (``backend.runtime.customer_contacts``
reads it). The Redis and gmqtt adapters implement these protocols
(``backend.infra.streams``, ``backend.emergency.redis_records``,
``backend.infra.mqtt_link.QosOnePublisher``); so do the tests' in-memory fakes, which run
the relay and the desks without servers.

An adapter whose server is unreachable raises ``redis.exceptions.RedisError`` or
``OSError``: the relay retries the hand-off until it is taken, and a desk leaves the
entry pending and reads it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from backend.emergency.hv_handling import Customer
from backend.emergency.records import CallCentreCase, PsapIncident, VoiceRecording
from backend.infra.streams import Delivery, FieldValue
from protocols.envelope import IntelligentExtras

CaseChange = Callable[[CallCentreCase | None], CallCentreCase | None]
IncidentChange = Callable[[PsapIncident | None], PsapIncident | None]


class BrokerLink(Protocol):
    """The relay's side of its broker session: its acknowledgements to the cars."""

    def publish(self, topic: str, payload: bytes) -> None:
        """Send at least once (QoS 1); the session queues it while the broker is away."""


class StreamAppender(Protocol):
    """Appends entries to the streams of one database, each de-duplication key once."""

    async def append_once(self, stream: str, dedup_key: str,
                          fields: Mapping[str, FieldValue]) -> str | None:
        """The new entry's id, or None when ``dedup_key`` was appended before."""


class Intake(Protocol):
    """A desk's reading side of its streams: consumer groups, pending entries, dead letters."""

    async def ensure_group(self, stream: str, group: str) -> None: ...

    async def read_group(self, group: str, consumer: str, streams: Mapping[str, str], *,
                         count: int, block_ms: int | None) -> list[Delivery]:
        """Entries of ``streams`` (stream → ``>`` new, ``0`` this consumer's pending)."""

    async def claim_idle(self, stream: str, group: str, consumer: str, *, min_idle_ms: int,
                         count: int) -> list[Delivery]:
        """Entries other consumers read and left unacknowledged for ``min_idle_ms``."""

    async def ack(self, stream: str, group: str, entry_id: str) -> None: ...

    async def delete(self, stream: str, entry_id: str) -> None: ...

    async def park(self, stream: str, entry_id: str, fields: Mapping[bytes, bytes],
                   reason: str) -> None:
        """Keep an entry nobody can read aside, with ``reason``, for inspection."""


class PsapIncidents(Protocol):
    """The PSAP domain's incident records, one per incident, indexed per desk."""

    async def apply(self, incident: str, change: IncidentChange) -> bool:
        """Read the record, ``change`` it and write the result, as one step against
        concurrent writers; ``change`` returning None (already applied) writes nothing.
        True when this call wrote."""


class CallCentreCases(Protocol):
    """The OEM call centre's cases, each tagged with its retention rule when first written."""

    async def apply(self, incident: str, change: CaseChange, *,
                    extended: IntelligentExtras | None, written_at: float,
                    recording: VoiceRecording | None = None) -> bool:
        """As ``PsapIncidents.apply``; a new case is tagged, and ``extended`` (the extended
        technical data, kept apart under its own rule) is stored with it once; so is
        ``recording``, with a new case only (the call centre takes the call once)."""

    async def create_once(self, case: CallCentreCase, *, written_at: float) -> bool:
        """Write and tag ``case`` unless a case of its incident exists; True when written."""


class CustomerContacts(Protocol):
    """The contact data the call centre holds for a car's customer (HV-R2)."""

    async def contact(self, vin: str) -> Customer | None:
        """The contact in ``vin``'s customer profile; None when it has none."""
