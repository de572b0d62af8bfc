"""The desks' records in Redis: PSAP incidents in the PSAP domain, cases in the OEM's.

Each update is one optimistic transaction: WATCH the record, read it, let the desk decide
(``change``), then MULTI/EXEC the write with its index entry and, for a new case, its
retention tag (``backend.privacy.retention_tags``), so a record never exists without its
deadline and two desks applying the same entry write it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

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
from backend.infra.errors import StoreBusyError
from backend.infra.redis_once import create_once, under_watch
from backend.privacy.retention_tags import tag_record
from protocols.envelope import IntelligentExtras


def _busy(key: str) -> Callable[[], Exception]:
    """A record that kept changing: the entry stays pending and is read again (the desk loop
    waits it out like a Redis outage), never parked."""
    return lambda: StoreBusyError(f"{key} kept changing during the transaction")


async def _stored(pipe: Pipeline, key: str) -> dict[bytes, bytes]:
    return cast(dict[bytes, bytes], await pipe.hgetall(key))


class RedisPsapIncidents:
    """``PsapIncidents`` in the PSAP domain's Redis (as its ``psap`` user)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def apply(self, incident: str, change: IncidentChange) -> bool:
        key = keys.psap_incident_key(incident)

        async def write(pipe: Pipeline) -> bool:
            raw = await _stored(pipe, key)
            record = change(PsapIncident.from_fields(raw) if raw else None)
            if record is None:
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.hset(key, mapping=record.to_fields())  # type: ignore[arg-type]
            pipe.zadd(keys.psap_index(record.desk), {incident: record.last_received_ns}, nx=True)
            await pipe.execute()
            return True

        return await under_watch(self._redis, key, write, give_up=_busy(key))


class RedisCallCentreCases:
    """``CallCentreCases`` in the OEM Redis, listed in ``keys.CASE_INDEX``."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def apply(self, incident: str, change: CaseChange, *,
                    extended: IntelligentExtras | None, written_at: float,
                    recording: VoiceRecording | None = None) -> bool:
        key = keys.case_key(incident)
        extended_key = keys.extended_key(incident)

        async def write(pipe: Pipeline) -> bool:
            raw = await _stored(pipe, key)
            case = change(CallCentreCase.from_fields(raw) if raw else None)
            if case is None:
                return False
            keep = (extended if extended is not None and not await pipe.exists(extended_key)
                    else None)
            pipe.multi()  # type: ignore[no-untyped-call]
            self._write(pipe, case, tag_at=None if raw else written_at)
            if keep is not None:
                # The extended technical data lives apart: 30 days, not the case's life.
                pipe.set(extended_key, as_json(asdict(keep)))
                tag_record(pipe, record_key=extended_key, service=EXTENDED_SERVICE,
                           vin=case.vin, written_at=written_at,
                           record_type=EXTENDED_RECORD_TYPE)
            if recording is not None and not raw:
                # The voice recording's reference: 24 hours from the call, its own rule.
                voice_key = keys.voice_recording_key(incident)
                pipe.set(voice_key, as_json(recording.view()))
                tag_record(pipe, record_key=voice_key, service=VOICE_SERVICE, vin=case.vin,
                           written_at=recording.started_at, record_type=VOICE_RECORD_TYPE)
            await pipe.execute()
            return True

        return await under_watch(self._redis, key, write, give_up=_busy(key))

    async def create_once(self, case: CallCentreCase, *, written_at: float) -> bool:
        return await create_once(self._redis, keys.case_key(case.incident),
                                 lambda pipe: self._write(pipe, case, tag_at=written_at))

    @staticmethod
    def _write(pipe: Pipeline, case: CallCentreCase, *, tag_at: float | None) -> None:
        """Queue the case and its index entry; ``tag_at`` set: a new case, tagged once."""
        key = keys.case_key(case.incident)
        pipe.hset(key, mapping=case.to_fields())  # type: ignore[arg-type]
        pipe.zadd(keys.CASE_INDEX, {case.incident: case.last_received_ns}, nx=True)
        if tag_at is not None:
            tag_record(pipe, record_key=key, service=case.service, vin=case.vin,
                       written_at=tag_at, indexes=[(keys.CASE_INDEX, case.incident)],
                       record_type=case.record_type)
