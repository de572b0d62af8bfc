"""The backend's sense of time: the scenario's virtual clock when one is announced.

A scenario runner leads virtual time and publishes each change of it, retained, on
``CLOCK_TOPIC``; every backend process that judges days (retention, campaign timeouts,
Teleservice rhythm) follows it, so "six months later" happens in seconds of a test.
Without an announcement the clock tells real time, as in production.
"""

from __future__ import annotations

import logging

from protocols.clock import VirtualClock, unpack_clock_state
from protocols.errors import ProtocolError

log = logging.getLogger(__name__)


class BackendClock:
    """A ``protocols.clock.Clock`` that adopts the announcements it hears."""

    def __init__(self) -> None:
        self._clock = VirtualClock.following()

    def now(self) -> float:
        return self._clock.now()

    def hear(self, payload: bytes) -> bool:
        """Adopt an announcement; a malformed one is logged and ignored, never raised."""
        try:
            state = unpack_clock_state(payload)
        except ProtocolError as exc:
            log.warning("ignored clock announcement: %s", exc)
            return False
        return self._clock.follow(state)
