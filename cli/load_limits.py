"""The open-file limit a load run needs, raised by the command itself.

Every car is a socket in a Locust process and another in the broker; the local broker,
the backend and Locust are this command's children and inherit its limit, so raising
it here (rather than asking for ``ulimit -n`` in the shell) covers them all. A process
may raise its soft limit up to its hard limit; only a privileged one may raise the hard
limit, which is tried and, where refused, left as it is and reported.
"""

from __future__ import annotations

import resource
from typing import Final

HEADROOM: Final = 1024  # files besides the cars': the backend's connections, logs, Redis


def needed(vehicles: int) -> int:
    """Open files for a fleet whose broker runs here: a socket per car, and headroom."""
    return vehicles + HEADROOM


def at_least(limit: int, want: int) -> int:
    """``limit`` raised to ``want``, never lowered (``RLIM_INFINITY``, -1 here, stays)."""
    return limit if limit == resource.RLIM_INFINITY or limit >= want else want


def raise_open_files(vehicles: int) -> str | None:
    """Raise this process's open-file limit for ``vehicles`` cars; a note when it stays
    short of that (the run goes on, and its connect failures will say the rest)."""
    want = needed(vehicles)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (at_least(soft, want), at_least(hard, want)))
    except (ValueError, OSError):  # not privileged: the soft limit up to the hard one
        resource.setrlimit(resource.RLIMIT_NOFILE, (at_least(soft, hard), hard))
        return (f"open files limited to {hard} by the hard limit ({want} wanted for "
                f"{vehicles} cars)")
    return None
