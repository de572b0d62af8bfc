"""What machine a figure was measured on, and where its CPU went during a phase.

Benchmark figures from a shared 2-core VM only mean something next to the core count,
the versions involved and how busy each process was: a p99 that doubles because the
broker sat at 90 % of a core is a different finding from one that doubles in the relay.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final

_CLK_TCK: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def mosquitto_version(binary: str | None) -> str | None:
    """The version the binary prints in its help (``mosquitto version 2.0.11``)."""
    if binary is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=5,
                              check=False)
        for line in (done.stdout + done.stderr).splitlines():
            if line.startswith("mosquitto version"):
                return line.split()[-1]
    return None


def machine_info(*, mosquitto_binary: str | None, redis_version: str | None) -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gmqtt": package_version("gmqtt"),
        "redis_py": package_version("redis"),
        "hiredis": package_version("hiredis"),
        "uvloop": package_version("uvloop"),
        "mosquitto": mosquitto_version(mosquitto_binary),
        "redis_server": redis_version,
    }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far, from /proc (None where unavailable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _all_processes() -> dict[int, float]:
    """pid → CPU seconds of every process visible in /proc."""
    found: dict[int, float] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (used := cpu_seconds(int(entry.name))) is not None:
                found[int(entry.name)] = used
    return found


def _steal_seconds() -> float | None:
    """CPU time the hypervisor gave this VM's vCPUs to others, from /proc/stat."""
    try:
        with Path("/proc/stat").open(encoding="ascii") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / _CLK_TCK
    except (OSError, ValueError, IndexError):
        return None


class CpuMeter:
    """Percent of one core each named process used between ``start`` and ``stop``.

    Beside the named processes it reports ``other``: every other process on the box
    (whatever else runs there at the time, such as another test suite), and
    ``steal``: time the hypervisor ran someone else on our vCPUs. Both explain
    latency that no code of ours can. Per-process times are used rather than the
    tick-sampled totals of /proc/stat, which under-count work paced by a timer.
    """

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self._before: dict[int, float] = {}
        self._steal: float | None = None
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._before = _all_processes()
        self._steal = _steal_seconds()

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._t0
        if elapsed <= 0:
            return {}
        after = _all_processes()
        used = {pid: seconds - self._before.get(pid, 0.0) for pid, seconds in after.items()}
        usage = {name: round(100.0 * max(0.0, used[pid]) / elapsed, 1)
                 for name, pid in self._pids.items() if pid in used and pid in self._before}
        ours = set(self._pids.values())
        other = sum(max(0.0, s) for pid, s in used.items() if pid not in ours)
        usage["other"] = round(100.0 * other / elapsed, 1)
        steal = _steal_seconds()
        if steal is not None and self._steal is not None:
            usage["steal"] = round(100.0 * (steal - self._steal) / elapsed, 1)
        return usage
