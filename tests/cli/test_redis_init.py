"""``telematics redis-users``: the ACL files and URLs compose's Redis and backend use."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from cli.local_services import find_binary, free_port
from cli.main import app
from cli.redis_init import initialise


@pytest.fixture
def psap_instance(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A Redis started the way deploy/redis-entry.sh starts the PSAP instance."""
    users = tmp_path / "redis"
    initialise(users)
    binary = find_binary("redis-server")
    assert binary is not None
    port = free_port()
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--aclfile", str(users / "psap.acl"), "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port).ping()
            except redis.AuthenticationError:
                break  # up, and it wants a password
            except redis.ResponseError:
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis did not start"
                time.sleep(0.05)
            else:
                pytest.fail("the default user answered without a password")
        yield users, port
    finally:
        proc.terminate()
        proc.wait(10)


def _url(users: Path, user: str, port: int) -> str:
    result = CliRunner().invoke(app, ["redis-users", "url", "--dir", str(users), "--user", user,
                                      "--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_redis_users_url_signs_in_as_the_psap_user_and_the_relay_reads_nothing(
        psap_instance: tuple[Path, int]) -> None:
    """The printed URLs authenticate; the relay may not read an incident back."""
    users, port = psap_instance
    psap = redis.Redis.from_url(_url(users, "psap", port))
    psap.hset("psap:incident:x", "vin", "V")
    relay = redis.Redis.from_url(_url(users, "relay", port))
    with pytest.raises(redis.exceptions.NoPermissionError):
        relay.hgetall("psap:incident:x")
    oem = redis.Redis.from_url(_url(users, "oem", port))
    with pytest.raises(redis.AuthenticationError):
        oem.ping()


def test_redis_users_url_without_init_fails_naming_the_file(tmp_path: Path) -> None:
    """No passwords yet: exit 1 with the file and what to run, never a made-up password."""
    result = CliRunner().invoke(app, ["redis-users", "url", "--dir", str(tmp_path),
                                      "--user", "oem", "--host", "redis"])
    assert result.exit_code == 1
    assert "redis-users init" in result.output
    assert not (tmp_path / "redis-credentials.json").exists()
