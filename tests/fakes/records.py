"""The desks' record stores in memory (``PsapIncidents`` and ``CallCentreCases``).

A record is kept as its Redis hash (bytes), written over field by field as HSET does,
and read back through its type, so the tests go through ``to_fields``/``from_fields``.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from redis.exceptions import ConnectionError as RedisConnectionError

from backend.emergency.edges import CaseChange, IncidentChange
from backend.emergency.entry_fields import as_json
from backend.emergency.records import (
    EXTENDED_RECORD_TYPE,
    EXTENDED_SERVICE,
    VOICE_RECORD_TYPE,
    VOICE_SERVICE,
    CallCentreCase,
    PsapIncident,
    VoiceRecording,
)
from backend.infra import keys
from protocols.envelope import IntelligentExtras
from tests.fakes import as_stored


@dataclass(frozen=True)
class FakeTag:
    """What ``tag_record`` would have been asked to tag."""

    service: str
    record_type: str
    vin: str
    written_at: float


class FakePsapIncidents:
    """``applied`` is set on every write; ``unreachable`` makes ``apply`` fail as an
    unreachable Redis does."""

    def __init__(self) -> None:
        self.hashes: dict[str, dict[bytes, bytes]] = {}
        self.index: dict[str, dict[str, int]] = {}
        self.applied = asyncio.Event()
        self.unreachable = False

    async def apply(self, incident: str, change: IncidentChange) -> bool:
        if self.unreachable:
            raise RedisConnectionError("store unreachable (fake)")
        raw = self.hashes.get(incident)
        record = change(PsapIncident.from_fields(raw) if raw else None)
        if record is None:
            return False
        self.hashes.setdefault(incident, {}).update(as_stored(record.to_fields()))
        self.index.setdefault(record.desk, {}).setdefault(incident, record.last_received_ns)
        self.applied.set()
        return True

    def record(self, incident: str) -> PsapIncident:
        return PsapIncident.from_fields(self.hashes[incident])


class FakeCallCentreCases:
    def __init__(self) -> None:
        self.hashes: dict[str, dict[bytes, bytes]] = {}
        self.index: dict[str, int] = {}
        self.extended: dict[str, bytes] = {}
        self.recordings: dict[str, VoiceRecording] = {}
        self.tags: dict[str, FakeTag] = {}

    async def apply(self, incident: str, change: CaseChange, *,
                    extended: IntelligentExtras | None, written_at: float,
                    recording: VoiceRecording | None = None) -> bool:
        raw = self.hashes.get(incident)
        case = change(CallCentreCase.from_fields(raw) if raw else None)
        if case is None:
            return False
        self._write(case, tag_at=None if raw else written_at)
        if extended is not None and incident not in self.extended:
            self.extended[incident] = as_json(asdict(extended)).encode()
            self.tags[keys.extended_key(incident)] = FakeTag(
                EXTENDED_SERVICE, EXTENDED_RECORD_TYPE, case.vin, written_at)
        if recording is not None and not raw:
            self.recordings[incident] = recording
            self.tags[keys.voice_recording_key(incident)] = FakeTag(
                VOICE_SERVICE, VOICE_RECORD_TYPE, case.vin, recording.started_at)
        return True

    async def create_once(self, case: CallCentreCase, *, written_at: float) -> bool:
        if case.incident in self.hashes:
            return False
        self._write(case, tag_at=written_at)
        return True

    def _write(self, case: CallCentreCase, *, tag_at: float | None) -> None:
        self.hashes.setdefault(case.incident, {}).update(as_stored(case.to_fields()))
        self.index.setdefault(case.incident, case.last_received_ns)
        if tag_at is not None:
            self.tags[keys.case_key(case.incident)] = FakeTag(
                case.service, case.record_type, case.vin, tag_at)

    def case(self, incident: str) -> CallCentreCase:
        return CallCentreCase.from_fields(self.hashes[incident])
