"""``telematics chaos`` on bad input: exit 2 with one line naming the option, no servers."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.mark.parametrize(("args", "named"), [
    (["--faults", "kill_everything"], "--faults"),
    (["--duration", "forever"], "--duration"),
    (["--duration", "1s"], "--duration"),
    (["--rate", "0"], "--rate"),
    (["--pid", "emergency"], "--pid"),
    (["--mqtt-url", "mqtt://127.0.0.1:1883"], "all three"),
    (["--mqtt-url", "http://x", "--redis-url", "redis://127.0.0.1:1",
      "--api-url", "http://127.0.0.1:1"], "--mqtt-url"),
])
def test_chaos_cli_bad_input_exits_2(args: list[str], named: str) -> None:
    """Unknown faults, bad durations, rates, pids or URLs exit 2 before anything starts."""
    result = CliRunner().invoke(app, ["chaos", *args])
    assert result.exit_code == 2
    assert named in result.output
