"""The fault injector's choices, with a recording stand-in for ``os.kill``."""

from __future__ import annotations

import signal

from backend.runtime.roles import Role
from chaos.faults import FaultInjector, FaultTarget

PIDS: dict[Role, int] = {"emergency": 101, "desks": 202}


class _Kill:
    """Records signals; pids in ``gone`` do not exist."""

    def __init__(self, gone: frozenset[int] = frozenset()) -> None:
        self.sent: list[tuple[int, int]] = []
        self.gone = gone

    def __call__(self, pid: int, signum: int) -> None:
        if pid in self.gone:
            raise ProcessLookupError(pid)
        self.sent.append((pid, signum))


def _injector(kill: _Kill, *, ours: bool = False) -> FaultInjector:
    target = FaultTarget(redis_url="redis://127.0.0.1:1", pid_of=PIDS.get,
                         restart_broker=(lambda: None) if ours else None,
                         restart_redis=(lambda: None) if ours else None)
    return FaultInjector(target, kill=kill)


def test_fault_injector_skips_what_a_foreign_stack_cannot_do() -> None:
    """Service restarts of a stack this run did not start are skipped with the reason."""
    injector = _injector(_Kill())
    assert injector.skip_reason("kill_emergency") is None
    assert injector.skip_reason("slow_redis") is None
    assert "broker was not started by this run" in (injector.skip_reason("broker_restart") or "")
    assert "Redis was not started" in (injector.skip_reason("redis_restart") or "")
    assert _injector(_Kill(), ours=True).skip_reason("broker_restart") is None


def test_fault_injector_skips_a_role_without_a_live_pid() -> None:
    """No pid, or a pid that is gone, is a reason to skip, naming the role."""
    target = FaultTarget(redis_url="redis://127.0.0.1:1", pid_of=lambda _role: None)
    reason = FaultInjector(target, kill=_Kill()).skip_reason("stall_desk")
    assert reason is not None and "--pid desks=PID" in reason
    gone = _injector(_Kill(gone=frozenset({101}))).skip_reason("partition_lane")
    assert gone == "pid 101 of the emergency role is not running"


async def test_fault_injector_kill_desk_sends_sigkill_to_desks() -> None:
    """kill_desk is one SIGKILL to the desks role's pid."""
    kill = _Kill()
    await _injector(kill).inject("kill_desk", hold_s=0.0)
    assert kill.sent == [(202, signal.SIGKILL)]


async def test_fault_injector_partition_lane_stops_then_continues() -> None:
    """partition_lane is SIGSTOP then SIGCONT to the same emergency pid."""
    kill = _Kill()
    await _injector(kill).inject("partition_lane", hold_s=0.01)
    assert kill.sent == [(101, signal.SIGSTOP), (101, signal.SIGCONT)]


async def test_fault_injector_restart_runs_the_given_restart() -> None:
    """broker_restart calls the run's own restart of the broker."""
    restarted: list[str] = []
    target = FaultTarget(redis_url="redis://127.0.0.1:1", pid_of=PIDS.get,
                         restart_broker=lambda: restarted.append("broker"))
    await FaultInjector(target, kill=_Kill()).inject("broker_restart", hold_s=0.0)
    assert restarted == ["broker"]


async def test_fault_injector_kills_run_the_given_crash_not_the_restart() -> None:
    """broker_kill and redis_kill call the run's SIGKILL-then-start, never the graceful
    restart; without one they are skipped like the restarts."""
    done: list[str] = []
    target = FaultTarget(redis_url="redis://127.0.0.1:1", pid_of=PIDS.get,
                         restart_broker=lambda: done.append("broker restart"),
                         restart_redis=lambda: done.append("redis restart"),
                         kill_broker=lambda: done.append("broker kill"),
                         kill_redis=lambda: done.append("redis kill"))
    injector = FaultInjector(target, kill=_Kill())
    await injector.inject("broker_kill", hold_s=0.0)
    await injector.inject("redis_kill", hold_s=0.0)
    assert done == ["broker kill", "redis kill"]
    foreign = _injector(_Kill())
    assert "broker was not started" in (foreign.skip_reason("broker_kill") or "")
    assert "Redis was not started" in (foreign.skip_reason("redis_kill") or "")
