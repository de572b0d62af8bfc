"""The PSAP domain apart: its own Redis, users that may do only their part, private files."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from backend.infra import keys
from backend.infra.streams import _DEDUP_XADD
from cli.local_services import LocalServices, ServiceUrls, redacted
from cli.redis_users import CREDENTIALS_FILE, acl_text, load_or_create

PSAP_DB = 1


def _apart(services: LocalServices) -> ServiceUrls:
    urls = services.urls
    if not urls.psap_apart:
        pytest.skip("the PSAP domain shares the Redis named by TELEMATICS_REDIS_URL")
    return urls


def _with_user(url: str, user: str, password: str) -> str:
    """``url``'s host and port with another user's credentials."""
    host = urlsplit(url).netloc.rpartition("@")[2]
    return f"redis://{user}:{password}@{host}"


def test_psap_domain_relay_hands_off_but_cannot_read_incidents(services: LocalServices) -> None:
    """The relay's user runs the hand-off script and nothing else: no PSAP record to read."""
    urls = _apart(services)
    with redis.Redis.from_url(urls.psap_redis_url, db=PSAP_DB) as psap:
        psap.hset(keys.psap_incident_key("relay-probe"), "desk", "psap-BE")
    with redis.Redis.from_url(urls.psap_relay_redis_url, db=PSAP_DB) as relay:
        script = relay.register_script(_DEDUP_XADD)
        entry = script(keys=[keys.psap_dedup_key("V", "relay-probe", 1),
                             keys.psap_stream("psap-BE")], args=[60, 1000, "kind", "ecall"])
        assert entry is not None
        reads: tuple[Callable[[], object], ...] = (
            lambda: relay.hgetall(keys.psap_incident_key("relay-probe")),
            lambda: relay.xrange(keys.psap_stream("psap-BE")),
            lambda: relay.get(keys.psap_dedup_key("V", "relay-probe", 1)),
            lambda: relay.set(keys.psap_incident_key("relay-probe"), "x"))
        for read in reads:
            with pytest.raises(NoPermissionError):
                read()
        # The script's own writes are checked too: it cannot reach a record either.
        with pytest.raises(ResponseError, match=r"permission|NOPERM"):
            script(keys=[keys.psap_dedup_key("V", "relay-probe", 2),
                         keys.psap_incident_key("relay-probe")], args=[60, 1000, "k", "v"])


def _refuses_anonymous(url: str) -> None:
    """The instance behind ``url`` answers nothing to a client without user or password."""
    anonymous = "redis://" + urlsplit(url).netloc.rpartition("@")[2]
    with redis.Redis.from_url(anonymous) as client, \
            pytest.raises((AuthenticationError, ResponseError)):
        client.ping()


def test_psap_domain_oem_credentials_cannot_reach_psap_instance(services: LocalServices) -> None:
    """The OEM user's password opens nothing on the PSAP instance, and anonymous is off."""
    urls = _apart(services)
    oem = urlsplit(urls.redis_url)
    assert oem.username and oem.password
    as_oem = _with_user(urls.psap_redis_url, oem.username, oem.password)
    with redis.Redis.from_url(as_oem) as client, pytest.raises(AuthenticationError):
        client.ping()
    _refuses_anonymous(urls.psap_redis_url)


def test_psap_domain_psap_user_cannot_reach_oem_keys_or_administer(
        services: LocalServices) -> None:
    """The desks' user keeps to ``psap:*`` and may not reconfigure or flush its instance."""
    urls = _apart(services)
    with redis.Redis.from_url(urls.psap_redis_url, db=PSAP_DB) as psap:
        with pytest.raises(NoPermissionError):
            psap.set(keys.case_key("x"), "1")
        with pytest.raises(NoPermissionError):
            psap.config_get("dir")
        with pytest.raises(NoPermissionError):
            psap.flushall()


def test_psap_domain_oem_instance_refuses_anonymous(services: LocalServices) -> None:
    """The OEM Redis has its default user off: no password, no command."""
    urls = _apart(services)
    _refuses_anonymous(urls.redis_url)


def test_psap_domain_passwords_stay_out_of_repr_and_printed_urls(
        services: LocalServices) -> None:
    """What a log line or a traceback shows of the URLs carries no password."""
    urls = _apart(services)
    passwords = [urlsplit(u).password for u in (urls.redis_url, urls.psap_redis_url,
                                                urls.psap_relay_redis_url)]
    shown = " ".join([repr(urls), redacted(urls.redis_url), redacted(urls.psap_redis_url),
                      repr(load_or_create(services.run_dir))])
    assert all(p and p not in shown for p in passwords)
    assert redacted(urls.psap_redis_url).startswith("redis://psap:***@127.0.0.1:")


def test_redis_users_acl_holds_hashes_not_passwords(tmp_path: Path) -> None:
    """The ACL file Redis reads names each user with its password's hash only."""
    credentials = load_or_create(tmp_path)
    text = acl_text({"relay": ("~psap:intake:*",)}, credentials)
    assert credentials.password("relay") not in text
    assert text.splitlines()[0].startswith("user default off")
    assert "user relay on resetpass #" in text


def test_redis_users_passwords_kept_per_run_dir_in_private_file(tmp_path: Path) -> None:
    """Passwords are made once per run directory, kept in a 0600 file, and differ."""
    first, again = load_or_create(tmp_path), load_or_create(tmp_path)
    assert first == again
    assert len(set(first.passwords.values())) == 3
    path = tmp_path / CREDENTIALS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8")) == dict(first.passwords)
    (tmp_path / "other").mkdir()
    assert load_or_create(tmp_path / "other") != first


def _loose_modes(root: Path) -> list[str]:
    """Everything under ``root`` that its group or others may read, write or enter."""
    loose = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        if not path.is_symlink() and mode & 0o077:
            loose.append(f"{oct(mode)} {path.relative_to(root)}")
    return loose


@pytest.mark.broker
def test_local_services_run_dir_private_after_run(tmp_path: Path) -> None:
    """After a run with data written (transactions too) and a restart, the data is back and
    the run directory, the AOFs, the broker's persistence file, the logs and the
    credentials are their owner's only."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o755)
    (run_dir / "redis.log").write_text("left by an earlier run\n", encoding="utf-8")
    (run_dir / "redis.log").chmod(0o644)
    with LocalServices(run_dir=run_dir, environ={}) as services:
        urls = services.urls
        with redis.Redis.from_url(urls.psap_relay_redis_url, db=PSAP_DB) as relay:
            relay.register_script(_DEDUP_XADD)(
                keys=[keys.psap_dedup_key("V", "i", 1), keys.psap_stream("psap-BE")],
                args=[60, 1000, "msd", "legal"])
        for url, key in ((urls.redis_url, "cc:case:i"), (urls.psap_redis_url, "psap:incident:i")):
            with redis.Redis.from_url(url, db=PSAP_DB) as client, \
                    client.pipeline(transaction=True) as pipe:
                pipe.hset(key, "at", "1").execute()  # a MULTI/EXEC in the AOF
        services.restart_redis()
        services.restart_mqtt()
        (run_dir / "report.json").write_text("{}", encoding="utf-8")  # written by the run
        (run_dir / "report.json").chmod(0o644)
        for url, key in ((urls.redis_url, "cc:case:i"), (urls.psap_redis_url, "psap:incident:i")):
            with redis.Redis.from_url(url, db=PSAP_DB) as client:
                assert client.hgetall(key) == {b"at": b"1"}, f"{key} lost in the restart"
    names = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")}
    assert {"report.json", "mosquitto.db", "mosquitto.log", "redis.log", "redis-psap.log",
            CREDENTIALS_FILE, "redis.acl", "redis-psap.acl"} <= names
    assert any(n.startswith("redis-psap/appendonlydir/") and n.endswith(".aof")
               for n in names)
    assert any(n.startswith("appendonlydir/") and n.endswith(".aof") for n in names)
    assert _loose_modes(run_dir) == []
