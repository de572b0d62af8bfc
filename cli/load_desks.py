"""After a load run with the API at hand: each noted eCall's record at its desk.

The cars noted (desk, incident, scheduled send) of their acknowledged eCalls
(``loadtest.recorder``); this asks the desks API for each, ``CONCURRENT`` at a time,
waiting up to ``WAIT_S`` for a record not there yet, and hands the records to
``loadtest.desk_receipts``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Final

import httpx

from loadtest import desk_receipts
from vehicle_sim.api_role import bearer

CONCURRENT: Final = 16
WAIT_S: Final = 5.0
POLL_S: Final = 0.1  # polling interval while a desk's record is not there yet


async def desk_latency(api_url: str, token: str | None,
                       notes: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The ``ecall_desk`` latency figures of ``notes`` ([desk, incident, scheduled_ns])."""
    gate = asyncio.Semaphore(CONCURRENT)
    deadline = time.monotonic() + WAIT_S
    async with httpx.AsyncClient(base_url=api_url, timeout=30.0,
                                 headers=bearer(token) if token else {}) as client:
        async def one(desk: str, incident: str) -> dict[str, Any] | None:
            async with gate:
                while True:
                    response = await client.get(f"/desks/{desk}/incidents/{incident}")
                    if response.status_code == 200:
                        record: dict[str, Any] = response.json()
                        return record
                    if response.status_code != 404 or time.monotonic() >= deadline:
                        return None
                    await asyncio.sleep(POLL_S)
        records = await asyncio.gather(*(one(str(d), str(i)) for d, i, _ in notes))
    return desk_receipts.figures((int(n[2]), r) for n, r in zip(notes, records, strict=True))
