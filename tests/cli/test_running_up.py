"""How the other commands find a running ``telematics up`` (``cli.running_up``)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli import api_client
from cli.local_services import LOOPBACK
from cli.running_up import UP_FILE, announced, choose_api_port, running_api_url


def test_the_wanted_port_is_used_when_free_and_another_named_when_taken() -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        port, note = choose_api_port(busy)
        assert port != busy and note is not None and str(busy) in note and str(port) in note
    free, note = choose_api_port(busy)  # released now
    assert (free, note) == (busy, None)
    assert choose_api_port(0)[0] > 0


def test_announcement_is_private_found_while_it_lasts_and_gone_after(tmp_path: Path) -> None:
    with announced(tmp_path, "http://127.0.0.1:8123") as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert running_api_url(tmp_path) == "http://127.0.0.1:8123"
    assert not path.exists()
    assert running_api_url(tmp_path) is None


def test_a_file_left_by_a_killed_up_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (tmp_path / UP_FILE).write_text(json.dumps({"api_url": "http://127.0.0.1:1",
                                                "pid": int(gone.stdout)}))
    assert running_api_url(tmp_path) is None
    (tmp_path / UP_FILE).write_text("not json")
    assert running_api_url(tmp_path) is None


def test_commands_use_a_running_up_unless_told_otherwise(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEMATICS_API_URL", raising=False)
    assert api_client.api_base(None) == api_client.DEFAULT_API_URL
    (tmp_path / ".run").mkdir()
    with announced(tmp_path / ".run", f"http://127.0.0.1:9{os.getpid() % 1000:03d}") as path:
        found = json.loads(path.read_text())["api_url"]
        assert api_client.api_base(None) == found
        monkeypatch.setenv("TELEMATICS_API_URL", "http://elsewhere:1")
        assert api_client.api_base(None) == "http://elsewhere:1"
        assert api_client.api_base("http://given:2") == "http://given:2"
