"""Read side of the desks, for the HTTP API: incidents per desk and one incident's detail.

Handlers call these functions, never Redis directly. PSAP desks read the PSAP domain's
Redis only (as its ``psap`` user); the call-centre desk reads its cases in the OEM Redis.
Records are read through their types (``backend.emergency.records``) and shown as their
``view``: the stored names, nested values as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis

from backend.emergency.errors import DeskError
from backend.emergency.psap_directory import desks as psap_desks
from backend.emergency.records import CallCentreCase, PsapIncident
from backend.emergency.relay import CALLCENTRE_DESK
from backend.infra import keys
from backend.privacy.retention_tags import close_records


@dataclass(frozen=True, slots=True)
class DeskStores:
    oem: Redis
    psap: Redis

    def for_desk(self, desk: str) -> Redis:
        if desk == CALLCENTRE_DESK:
            return self.oem
        if desk in psap_desks():
            return self.psap
        raise DeskError(f"unknown desk {desk!r}", desk=desk)


def all_desks() -> list[str]:
    return [CALLCENTRE_DESK, *psap_desks()]


def _view(desk: str, raw: dict[bytes, bytes]) -> dict[str, Any]:
    if desk == CALLCENTRE_DESK:
        return CallCentreCase.from_fields(raw).view()
    return PsapIncident.from_fields(raw).view()


def _record_key(desk: str, incident: str) -> str:
    return keys.case_key(incident) if desk == CALLCENTRE_DESK else keys.psap_incident_key(incident)


async def list_incidents(
    stores: DeskStores, desk: str, *, limit: int = 100
) -> list[dict[str, Any]]:
    redis = stores.for_desk(desk)
    index = keys.CASE_INDEX if desk == CALLCENTRE_DESK else keys.psap_index(desk)
    ids = cast(list[bytes], await redis.zrevrange(index, 0, limit - 1))
    out = []
    for raw_id in ids:
        raw = cast(dict[bytes, bytes], await redis.hgetall(_record_key(desk, raw_id.decode())))
        if raw:
            out.append(_view(desk, raw))
    return out


async def read_incident(stores: DeskStores, desk: str, incident: str) -> dict[str, Any]:
    redis = stores.for_desk(desk)
    raw = cast(dict[bytes, bytes], await redis.hgetall(_record_key(desk, incident)))
    if not raw:
        raise DeskError(f"no incident {incident!r} at desk {desk!r}", desk=desk, incident=incident)
    record = _view(desk, raw)
    if desk == CALLCENTRE_DESK and "extras" not in record:
        extended = await redis.get(keys.extended_key(incident))
        if extended is not None:  # absent once its 30 days are over
            record["extras"] = json.loads(extended)
    if desk == CALLCENTRE_DESK:
        recording = await redis.get(keys.voice_recording_key(incident))
        if recording is not None:  # absent once its 24 hours are over
            record["voice_recording"] = json.loads(recording)
    if desk != CALLCENTRE_DESK and record.get("desk") != desk:
        raise DeskError(f"incident {incident!r} is not at desk {desk!r}", desk=desk,
                        incident=incident)
    return record


def vin_of(record: dict[str, Any]) -> str:
    """The VIN an operator's update request goes to: from the case, else from the MSD."""
    if record.get("vin"):
        return str(record["vin"])
    vin = record.get("msd", {}).get("msdStructure", {}).get("vehicleIdentificationNumber", {})
    return "".join(str(vin.get(k, "")) for k in ("isowmi", "isovds", "isovisModelyear",
                                                  "isovisSeqPlant"))


async def close_callcentre_case(oem: Redis, incident: str, *, now: float) -> None:
    """All procedures of a call-centre case are completed (§7a): it is marked closed and
    its retention clock starts; ``DeskError`` when the call centre has no such case."""
    key = keys.case_key(incident)
    if not await oem.exists(key):
        raise DeskError(f"no incident {incident!r} at callcentre", desk=CALLCENTRE_DESK,
                        incident=incident)
    await oem.hset(key, mapping={"status": "closed", "closed_at": repr(now)})
    await close_records(oem, [key], closed_at=now)
