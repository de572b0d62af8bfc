"""The stores' side of retention: tag a record with its catalogue entry's rule.

Each store names the catalogue entry of what it writes (``teleservice_call``,
``hv_warn_call``, ``rsu`` ...) and tags the record inside its own MULTI, so a record
never exists without its deadline. The rule is copied into the tag when the record is
written, so a later catalogue version does not change the life of stored records.
The tag is the one place a record's rule is held: a view that shows the rule reads it
from there (``backend.privacy.retention_store.rule_kinds``), never from a copy in the
record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from backend.privacy import retention_store
from backend.privacy.errors import UnknownRecordError
from backend.privacy.retention import Tag
from protocols.catalogue import entry

log = logging.getLogger(__name__)


def tag_record(pipe: Pipeline, *, record_key: str, service: str, vin: str, written_at: float,
               indexes: Sequence[tuple[str, str]] = (), record_type: str | None = None) -> Tag:
    """Queue the tag of ``record_key`` under catalogue entry ``service``'s rule."""
    return retention_store.tag(pipe, record_key=record_key, service=service,
                               rule=entry(service).retention, vin=vin, written_at=written_at,
                               indexes=indexes, record_type=record_type)


async def tag_if_new(oem: Redis, record_keys: Sequence[tuple[str, str]], *, service: str,
                     written_at: float) -> int:
    """Tag each (record key, VIN) not tagged yet; for records appended to over time (a
    car's OTA history), whose first write is not one place in the code. Returns how
    many were tagged."""
    async with oem.pipeline(transaction=False) as pipe:
        for key, _vin in record_keys:
            pipe.exists(retention_store.meta_key(key))
        known = await pipe.execute()
    new = [(key, vin) for (key, vin), seen in zip(record_keys, known, strict=True) if not seen]
    if new:
        async with oem.pipeline(transaction=True) as pipe:
            for key, vin in new:
                tag_record(pipe, record_key=key, service=service, vin=vin,
                           written_at=written_at)
            await pipe.execute()
    return len(new)


async def close_records(oem: Redis, record_keys: Sequence[str], *, closed_at: float) -> int:
    """The procedures of these records are complete: their ``until_closed`` clock starts.

    A record already deleted (or never tagged) is skipped; returns how many were closed.
    """
    closed = 0
    for key in record_keys:
        try:
            await retention_store.close(oem, key, closed_at=closed_at)
            closed += 1
        except UnknownRecordError:
            log.info("retention: %s is gone; nothing to close", key)
    return closed
