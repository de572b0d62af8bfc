"""Where a running ``telematics up`` serves its API, so the other commands find it unasked.

``up`` writes ``up.json`` into its run directory (the API's URL and its own pid, private
to the user) while the backend runs and removes it when it stops. ``budgets``,
``retention``, ``ota`` and the rest read it when neither ``--api-url`` nor
``$TELEMATICS_API_URL`` says where the API is; a file left by an ``up`` that was killed
is ignored, because its pid is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from backend.runtime.metrics_endpoint import port_is_free as host_port_is_free
from cli.local_services import LOOPBACK, free_port

UP_FILE: Final = "up.json"
DEFAULT_RUN_DIR: Final = Path(".run")
DEFAULT_API_PORT: Final = 8080


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``port`` of the loopback address right now."""
    return host_port_is_free(LOOPBACK, port)


def choose_api_port(wanted: int) -> tuple[int, str | None]:
    """The port ``up`` serves its API on: ``wanted`` when free (0: any free port), else a
    free one and the sentence that says so."""
    if wanted == 0:
        return free_port(), None
    if port_is_free(wanted):
        return wanted, None
    port = free_port()
    return port, f"port {wanted} is taken; the API is on port {port} instead"


@contextlib.contextmanager
def announced(run_dir: Path, api_url: str) -> Iterator[Path]:
    """``up.json`` in ``run_dir`` for as long as the ``with`` body runs."""
    path = run_dir / UP_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump({"api_url": api_url, "pid": os.getpid()}, out)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def running_api_url(run_dir: Path = DEFAULT_RUN_DIR) -> str | None:
    """The API URL of an ``up`` running from ``run_dir``; None when none runs there."""
    try:
        data = json.loads((run_dir / UP_FILE).read_text(encoding="utf-8"))
        url, pid = str(data["api_url"]), int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if _alive(pid) else None
