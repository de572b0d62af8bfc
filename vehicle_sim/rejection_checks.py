"""Whether the backend counted the refusals a scenario provoked, asked over its API.

The backend counts every message it refuses by the field and rule it broke and shows
the counts to the operator (``GET /health/detail``); an injection scenario expects its
bad messages there, at least as many as it sent (a backend that lives on keeps earlier
runs' counts too), and may expect the cars to have been told of them on their
``rejected`` topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

import httpx

from vehicle_sim.scenario_steps import RejectionsExpectDef

ERROR_FAMILY: Final = "metrics:errors"  # the health detail's family of refusals by rule


async def rejections_counted(client: httpx.AsyncClient, expect: RejectionsExpectDef, *,
                             timeout_s: float,
                             answered: Callable[[], int] = lambda: 0) -> tuple[bool, str]:
    """Whether every rule's count reached what ``expect`` asks, and the cars were answered
    at least ``expect.answered`` times (``answered``: how many answers they hold now), and
    what was seen. The counters reach Redis about once a second, so this polls until then
    or the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = (await client.get("/health/detail")).json()
        errors: dict[str, int] = body.get("counters", {}).get(ERROR_FAMILY, {})
        short = {rule: errors.get(rule, 0) for rule, least in expect.counts.items()
                 if errors.get(rule, 0) < least}
        told = answered()
        if (not short and told >= expect.answered) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.2)  # polling interval while counters are flushed, not a sync
    if short or told < expect.answered:
        missing = [f"{rule}: {got} refused, expected at least {expect.counts[rule]}"
                   for rule, got in short.items()]
        if told < expect.answered:
            missing.append(f"{told} answered to the cars, expected at least "
                           f"{expect.answered}")
        return False, "; ".join(missing)
    said = f"; {told} answered to the cars" if expect.answered else ""
    return True, "refused " + ", ".join(
        f"{errors[rule]} × {rule}" for rule in expect.counts) + said
