"""The backend's roles by name: what the supervisor starts, each in a process of its own."""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["emergency", "bulk", "desks", "services", "api"]
# The order is the supervisor's start order and each role's metrics port offset.
ROLES: Final[tuple[Role, ...]] = ("emergency", "desks", "services", "bulk", "api")
