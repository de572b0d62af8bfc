"""Starts Locust in processes of its own and follows its progress file.

Locust imports gevent, which patches the standard library of the process it runs in;
the backend and the command line run on asyncio and must never see that, so Locust is
always a child process (``python -m locust -f loadtest/locustfile.py ...``) given the
run plan's path in its environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from loadtest import locustfile_path
from loadtest.run_plan import PLAN_ENV, PROGRESS_FILE, RunPlan

PLAN_FILE: Final = "plan.json"
LOG_FILE: Final = "locust.log"
POLL_S: Final = 0.5


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How Locust runs: ``processes`` workers on this machine (1: Locust alone), the
    web UI, or one half of a run across machines (``master`` waiting for
    ``expect_workers``; ``worker`` joining ``master_host``)."""

    processes: int = 1
    web: bool = False
    master: bool = False
    expect_workers: int = 1
    worker: bool = False
    master_host: str = "127.0.0.1"


def locust_argv(plan: RunPlan, options: EngineOptions, *,
                python: str = sys.executable) -> list[str]:
    profile = plan.profile
    argv = [python, "-m", "locust", "-f", str(locustfile_path()), "--loglevel", "WARNING",
            "--logfile", str(plan.out / LOG_FILE), "--stop-timeout", "5"]
    if options.worker:
        return [*argv, "--worker", "--master-host", options.master_host]
    rate = profile.vehicles / profile.ramp if profile.ramp > 0 else profile.vehicles
    argv += ["--users", str(profile.vehicles), "--spawn-rate", f"{rate:.3f}",
             "--run-time", f"{round(profile.duration + profile.drain)}s",
             "--csv", str(plan.out / "locust"), "--html", str(plan.out / "locust.html")]
    argv += ["--autostart", "--autoquit", "0"] if options.web else ["--headless"]
    if options.master:
        argv += ["--master", "--expect-workers", str(options.expect_workers)]
    elif options.processes > 1:
        argv += ["--processes", str(options.processes)]
    return argv


def workers_of(options: EngineOptions) -> int:
    """How many processes share the fleet (each numbers its cars apart)."""
    if options.master or options.worker:
        return options.expect_workers
    return max(1, options.processes)


def read_progress(out: Path) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        data: dict[str, Any] = json.loads((out / PROGRESS_FILE).read_text(encoding="utf-8"))
        return data
    return None


async def run_engine(plan: RunPlan, options: EngineOptions,
                     on_progress: Callable[[dict[str, Any]], None]) -> int:
    """Run Locust to its end, calling ``on_progress`` with each new progress file;
    Locust's exit code."""
    plan.out.mkdir(parents=True, exist_ok=True)
    plan_path = plan.out / PLAN_FILE
    plan_path.write_text(plan.to_json(), encoding="utf-8")
    # gevent's default resolver sends every getaddrinfo through a thread pool, a hop per
    # connection that a fleet connecting at once queues on; brokers are named by address.
    environ = {**os.environ, PLAN_ENV: str(plan_path.resolve()), "GEVENT_RESOLVER": "block"}
    (plan.out / PROGRESS_FILE).unlink(missing_ok=True)
    with (plan.out / "locust.out").open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *locust_argv(plan, options), env=environ, stdout=out, stderr=asyncio.subprocess.STDOUT)
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), POLL_S)
                progress = read_progress(plan.out)
                if progress is not None:
                    on_progress(progress)
                if process.returncode is not None:
                    return process.returncode
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()
