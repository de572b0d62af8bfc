"""A run on the local stack ends with the supervisor's one line when it gives a role up,
rather than waiting on a backend that will never be ready (``telematics up`` exits 1)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from backend.runtime.supervisor import Supervisor
from cli import stack
from cli.local_services import free_port


async def test_a_role_given_up_ends_the_run_with_its_cause(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack, "Supervisor", functools.partial(Supervisor, give_up_crashes=2))
    body_ran = False
    with pytest.raises(stack.StackError) as raised:
        async with stack.running_backend("mqtt://127.0.0.1:notaport",
                                         f"redis://127.0.0.1:{free_port()}",
                                         run_dir=tmp_path, roles=("bulk",)):
            body_ran = True
    assert not body_ran
    assert "bulk crashed 2 times" in str(raised.value)
    assert "ProtocolError" in str(raised.value)
