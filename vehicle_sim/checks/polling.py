"""Asking the API again until an answer holds: the one wait every check uses. Deadlines
are ``time.monotonic()`` instants."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

POLL_S = 0.05
T = TypeVar("T")


async def poll(client: httpx.AsyncClient, path: str, done: Callable[[dict[str, Any]], bool],
               deadline: float) -> dict[str, Any] | None:
    """GET ``path`` until ``done`` holds for its body or the deadline passes; the last
    body (None if the path never answered 200)."""
    body: dict[str, Any] | None = None
    while True:
        response = await client.get(path)
        if response.status_code == 200:
            body = response.json()
            if done(body):
                return body
        if time.monotonic() >= deadline:
            return body
        await asyncio.sleep(POLL_S)  # polling interval while the backend works


async def until(read: Callable[[], Awaitable[T]], done: Callable[[T], bool],
                deadline: float) -> T:
    """``read()`` again until ``done`` holds for its result or the deadline passes."""
    while True:
        value = await read()
        if done(value) or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(POLL_S)  # polling interval while the backend works
