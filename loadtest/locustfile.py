"""The locustfile ``telematics load`` hands to Locust: the car user and the figures' path.

Every process that runs cars keeps a ``Recorder`` and, each second, sends what it
recorded to the process that reports: itself when Locust runs alone, the master over
Locust's own messages when it runs ``--processes`` or ``--master``/``--worker``. The
reporting process merges (``loadtest.aggregate``), writes ``progress.json`` each second
for the terminal, and ``figures.json`` whenever something arrives and once more when
Locust quits, after every worker's last snapshot. The drain after the traffic lasts at
most the profile's ``drain``: it ends as soon as every eCall started has its
acknowledgement, reported by every worker for ``SETTLED_BEATS`` reports in a row.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtest.aggregate import Aggregate
from loadtest.car_user import CarUser, Run
from loadtest.recorder import Recorder
from loadtest.run_plan import PLAN_ENV, PROGRESS_FILE, RESULT_FILE, RunPlan, read, write_json

__all__ = ["CarUser"]

SNAPSHOT_MESSAGE = "telematics_snapshot"
REPORT_EVERY_S = 1.0
FIGURES_EVERY = 10  # progress reports between two writes of every figure
SETTLED_BEATS = 3  # reports in a row with no eCall open before the drain ends early


class Reporting:
    """The reporting side of this process, when it has one."""

    plan: RunPlan | None = None
    aggregate: Aggregate | None = None
    recorder: Recorder | None = None
    loops: ClassVar[list[gevent.Greenlet]] = []


def _plan() -> RunPlan:
    return read(Path(os.environ[PLAN_ENV]))


def _runs_cars(environment: Environment) -> bool:
    return not isinstance(environment.runner, MasterRunner)


def _reports(environment: Environment) -> bool:
    return not isinstance(environment.runner, WorkerRunner)


def _on_init(environment: Environment, **_kwargs: Any) -> None:
    Reporting.plan = _plan()
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(SNAPSHOT_MESSAGE,
                                            lambda msg, **_kw: _merge(msg.data))


def _locust_request(environment: Environment) -> Any:
    def fire(kind: str, ms: float) -> None:
        request: Any = environment.events.request
        request.fire(request_type="MQTT", name=kind, response_time=ms, response_length=0,
                     exception=None, context={})
    return fire


def _on_test_start(environment: Environment, **_kwargs: Any) -> None:
    plan = Reporting.plan
    assert plan is not None
    if _reports(environment):
        Reporting.aggregate = Aggregate(started_ns=time.time_ns())
        Reporting.loops.append(gevent.spawn(_progress_loop, environment))
    if _runs_cars(environment):
        runner = environment.runner
        worker = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        recorder = Recorder(source=f"worker-{worker}-{os.getpid()}",
                            on_done=_locust_request(environment))
        Reporting.recorder = recorder
        Run.begin(plan, recorder, worker=worker)
        Reporting.loops.append(gevent.spawn(_snapshot_loop, environment))


def _send(environment: Environment) -> None:
    recorder = Reporting.recorder
    if recorder is None:
        return
    snapshot = recorder.take()
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.send_message(SNAPSHOT_MESSAGE, snapshot)
    else:
        _merge(snapshot)


def _snapshot_loop(environment: Environment) -> None:
    while True:
        gevent.sleep(REPORT_EVERY_S)
        _send(environment)


def _merge(snapshot: dict[str, Any]) -> None:
    aggregate, plan = Reporting.aggregate, Reporting.plan
    if aggregate is None or plan is None:
        return
    aggregate.add(snapshot)


def _progress_loop(environment: Environment) -> None:
    beats = settled = 0
    while True:
        gevent.sleep(REPORT_EVERY_S)
        beats += 1
        _write(final=False, figures=beats % FIGURES_EVERY == 0)
        settled = settled + 1 if _draining_settled() else 0
        if settled >= SETTLED_BEATS:
            # As Locust's --run-time does when it runs out (and --autoquit 0 with the web UI).
            runner, web_ui = environment.runner, environment.web_ui
            if runner is not None:
                runner.quit()
            if web_ui is not None:
                web_ui.stop()  # type: ignore[no-untyped-call]
            return


def _draining_settled() -> bool:
    """The traffic is over and no eCall waits for its acknowledgement."""
    aggregate, plan = Reporting.aggregate, Reporting.plan
    if aggregate is None or plan is None:
        return False
    elapsed = (time.time_ns() - aggregate.started_ns) / 1e9
    return elapsed >= plan.profile.duration and aggregate.settled()


def _write(*, final: bool, figures: bool = True) -> None:
    """The live figures each second; all of them every ``FIGURES_EVERY`` s and at the end."""
    aggregate, plan = Reporting.aggregate, Reporting.plan
    if aggregate is None or plan is None:
        return
    elapsed = (time.time_ns() - aggregate.started_ns) / 1e9
    write_json(plan.out / PROGRESS_FILE, {"elapsed_s": elapsed, "started_ns": aggregate.started_ns,
                                          **aggregate.live(),
                                          "final": final})
    if figures or final:
        write_json(plan.out / RESULT_FILE, aggregate.figures(final=final))


def _on_test_stop(environment: Environment, **_kwargs: Any) -> None:
    if _runs_cars(environment):
        _send(environment)


def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    for loop in Reporting.loops:
        loop.kill(block=False)
    if _reports(environment):
        _write(final=True)


# Registered by call rather than by decorator: Locust's hooks are untyped.
_hooks: Any = events
_hooks.init.add_listener(_on_init)
_hooks.test_start.add_listener(_on_test_start)
_hooks.test_stop.add_listener(_on_test_stop)
_hooks.quitting.add_listener(_on_quitting)
