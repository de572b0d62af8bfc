"""What the platform shows from outside: the desks' records in Redis, and ``GET /ready``.

The desks are read where a PSAP and the call centre would read them: the PSAP record
``psap:incident:{incident}`` in the PSAP domain's Redis and, for Intelligent eCalls, the
case ``cc:case:{incident}`` in the OEM Redis; only their ``transmissions`` field is needed.
Readiness is sampled every ``every_s`` for the whole run, each sample stamped when it was
asked; a probe that gets no answer within its timeout counts as red, as it would for an
orchestrator.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Final

import httpx
from redis.asyncio import Redis

from backend.infra import keys
from chaos.calls import CallRecord
from chaos.tally import Delivery, Sample, receipts_of

BATCH: Final = 500
READY_EVERY_S: Final = 0.15
READY_TIMEOUT_S: Final = 1.0


class DeskReader:
    """Reads the desks' records of a set of calls, in pipelined batches."""

    def __init__(self, *, oem_url: str, oem_db: int, psap_url: str, psap_db: int) -> None:
        self._psap = Redis.from_url(psap_url, db=psap_db)
        self._oem = Redis.from_url(oem_url, db=oem_db)

    async def aclose(self) -> None:
        await self._psap.aclose()
        await self._oem.aclose()

    async def read(self, calls: Sequence[CallRecord]) -> dict[str, Delivery]:
        """incident → what the desks hold for it (empty when nothing yet)."""
        psap = await self._transmissions(self._psap, [keys.psap_incident_key(c.incident)
                                                      for c in calls])
        intelligent = [c for c in calls if c.variant == "intelligent"]
        cases = await self._transmissions(self._oem, [keys.case_key(c.incident)
                                                      for c in intelligent])
        case_of = dict(zip((c.incident for c in intelligent), cases, strict=True))
        return {call.incident: Delivery(
                    psap=receipts_of(raw),
                    case_msg_ids=tuple(r.msg_id for r in receipts_of(case_of.get(call.incident))))
                for call, raw in zip(calls, psap, strict=True)}

    @staticmethod
    async def _transmissions(redis: Redis, record_keys: list[str]) -> list[bytes | None]:
        values: list[bytes | None] = []
        for start in range(0, len(record_keys), BATCH):
            async with redis.pipeline(transaction=False) as pipe:
                for key in record_keys[start:start + BATCH]:
                    pipe.hget(key, "transmissions")
                values.extend(await pipe.execute())
        return values


class ReadinessProbe:
    """Polls ``{api_url}/ready`` until stopped; ``samples`` grows as it goes."""

    def __init__(self, api_url: str, *, every_s: float = READY_EVERY_S,
                 timeout_s: float = READY_TIMEOUT_S) -> None:
        self._api_url = api_url
        self._every_s = every_s
        self._timeout_s = timeout_s
        self.samples: list[Sample] = []

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self._api_url, timeout=self._timeout_s) as client:
            while not stop.is_set():
                asked = time.monotonic()
                try:
                    ready = (await client.get("/ready")).status_code == 200
                except httpx.HTTPError:
                    ready = False
                self.samples.append(Sample(asked, ready))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._every_s)
