"""A lane's handler runs for at most its in-flight bound of messages at a time."""

from __future__ import annotations

import asyncio

from backend.infra.mqtt_link import bounded


async def test_no_more_than_the_bound_run_at_once_and_every_message_is_handled() -> None:
    running, peak = 0, 0
    handled: list[str] = []
    release, four_in = asyncio.Event(), asyncio.Event()

    async def handler(topic: str, _payload: bytes) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 4:
            four_in.set()
        await release.wait()
        running -= 1
        handled.append(topic)

    gated = bounded(handler, 4)
    tasks: list[asyncio.Future[None]] = [asyncio.ensure_future(gated(f"t/{i}", b""))
                                         for i in range(50)]
    await asyncio.wait_for(four_in.wait(), 5)
    for _ in range(20):  # every waiting task gets its chance to (wrongly) start
        await asyncio.sleep(0)
    assert running == 4
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 4 and sorted(handled) == sorted(f"t/{i}" for i in range(50))
