"""A run ends with the supervisor's one line when it gives a role up, rather than waiting
on a backend that will never be ready: ``telematics up`` and ``backend run`` exit 1."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.runtime.supervisor import Supervisor
from cli import backend as backend_cmd
from cli import stack
from cli.local_services import free_port
from cli.main import app


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


def test_backend_run_exits_1_with_the_cause_when_a_role_is_given_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_cmd, "Supervisor", functools.partial(
        Supervisor, roles=("bulk",), give_up_crashes=2))
    result = CliRunner().invoke(app, [
        "backend", "run", "--mqtt-url", "mqtt://127.0.0.1:notaport",
        "--redis-url", f"redis://127.0.0.1:{free_port()}", "--run-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "error: bulk crashed 2 times" in result.stderr
    assert "ProtocolError" in result.stderr
