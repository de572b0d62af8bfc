"""Mosquitto and Redis on loopback, for ``telematics up`` and the tests.

For each of the two services, a URL in ``TELEMATICS_MQTT_URL`` / ``TELEMATICS_REDIS_URL``
wins; otherwise a private process is started on a free 127.0.0.1 port, with its
configuration, data and log inside a run directory that outlives it::

    with LocalServices(run_dir=Path(".run"), environ=os.environ) as services:
        services.urls.mqtt_url      # mqtt://127.0.0.1:PORT
        services.restart_redis()    # same port, same data

Both processes keep what they hold across a restart: Mosquitto persists its sessions and
queued QoS 1 messages (saved every second and on exit), Redis appends every write to its
AOF. The broker runs with ``set_tcp_nodelay true`` (see spec/performance.md §4).

Errors: ``ServiceError`` (a binary is missing, a service did not come up, a restart was
asked of a service we do not run) > ``ServiceUrlError`` (an environment URL breaks its rule).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final
from urllib.parse import SplitResult, urlsplit

__all__ = [
    "MQTT_URL_ENV",
    "REDIS_URL_ENV",
    "LocalServices",
    "ServiceError",
    "ServiceUrlError",
    "ServiceUrls",
    "ensure_installed",
    "find_binary",
    "free_port",
    "install_command",
    "main",
    "mosquitto_config",
    "parse_mqtt_url",
    "parse_redis_url",
    "redis_argv",
]

MQTT_URL_ENV: Final = "TELEMATICS_MQTT_URL"
REDIS_URL_ENV: Final = "TELEMATICS_REDIS_URL"
LOOPBACK: Final = "127.0.0.1"
BINARIES: Final = ("mosquitto", "redis-server")
APT_PACKAGES: Final = ("mosquitto", "redis-server")
# Debian puts mosquitto in /usr/sbin, which a non-root PATH often lacks; Homebrew uses these.
SBIN_DIRS: Final = ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin", "/opt/homebrew/bin")
READY_TIMEOUT_S: Final = 10.0
STOP_TIMEOUT_S: Final = 10.0
_START_ATTEMPTS: Final = 3
_POLL_S: Final = 0.02

Which = Callable[[str], str | None]
Runner = Callable[[Sequence[str]], int]


class ServiceError(RuntimeError):
    """A local service is missing, did not come up, or cannot do what was asked."""


class ServiceUrlError(ServiceError, ValueError):
    """A service URL breaks its rule; ``variable`` names where it came from."""

    def __init__(self, variable: str, url: str, rule: str) -> None:
        super().__init__(f"{variable}={url!r}: {rule}")
        self.variable = variable
        self.url = url


@dataclass(frozen=True, slots=True)
class ServiceUrls:
    mqtt_url: str  # mqtt://127.0.0.1:PORT
    redis_url: str  # redis://127.0.0.1:PORT


# --- URLs ------------------------------------------------------------------------------------

def _split(url: str, *, variable: str, scheme: str,
           rule: str) -> tuple[SplitResult, str, int | None]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ServiceUrlError(variable, url, rule) from None
    if (parts.scheme != scheme or not parts.hostname or parts.query or parts.fragment
            or port == 0):
        raise ServiceUrlError(variable, url, rule)
    return parts, parts.hostname, port


def parse_mqtt_url(url: str, *, variable: str = MQTT_URL_ENV) -> tuple[str, int]:
    """``mqtt://HOST[:PORT]`` → ``(host, port)``; the port defaults to 1883."""
    rule = "expected mqtt://HOST[:PORT] with a port in 1..65535 and no path"
    parts, host, port = _split(url, variable=variable, scheme="mqtt", rule=rule)
    if parts.path not in ("", "/") or parts.username or parts.password:
        raise ServiceUrlError(variable, url, rule)
    return host, port or 1883


def parse_redis_url(url: str, *, variable: str = REDIS_URL_ENV) -> tuple[str, int]:
    """``redis://[USER:PASSWORD@]HOST[:PORT][/DB]`` → ``(host, port)``; port defaults to 6379."""
    rule = "expected redis://[USER:PASSWORD@]HOST[:PORT][/DB] with a port in 1..65535"
    parts, host, port = _split(url, variable=variable, scheme="redis", rule=rule)
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ServiceUrlError(variable, url, rule)
    return host, port or 6379


# --- binaries --------------------------------------------------------------------------------

def find_binary(name: str, *, path: str | None = None,
                extra_dirs: Sequence[str] = SBIN_DIRS) -> str | None:
    """``name`` on ``path`` (default: ``$PATH``), then in the sbin directories."""
    found = shutil.which(name, path=path)
    if found is None and extra_dirs:
        found = shutil.which(name, path=os.pathsep.join(extra_dirs))
    return found


def install_command(platform: str = sys.platform) -> str:
    if platform == "darwin":
        return "brew install mosquitto redis"
    return "sudo apt-get install " + " ".join(APT_PACKAGES)


def _missing_message(missing: Sequence[str], platform: str) -> str:
    return (f"{' and '.join(missing)} not found (looked on PATH and in /usr/sbin); "
            f"install with: {install_command(platform)} "
            f"(or set {MQTT_URL_ENV} and {REDIS_URL_ENV} to use services already running)")


def _needed(environ: Mapping[str, str] | None) -> tuple[str, ...]:
    if environ is None:
        return BINARIES
    given = {"mosquitto": bool(environ.get(MQTT_URL_ENV)),
             "redis-server": bool(environ.get(REDIS_URL_ENV))}
    return tuple(name for name in BINARIES if not given[name])


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run_apt(argv: Sequence[str]) -> int:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(list(argv), env=env, check=False).returncode


def ensure_installed(*, allow_apt: bool, environ: Mapping[str, str] | None = None,
                     which: Which = find_binary, is_root: bool | None = None,
                     platform: str = sys.platform, run: Runner = _run_apt) -> None:
    """Make sure ``mosquitto`` and ``redis-server`` can be started, or say what to install.

    With ``environ``, a service whose URL variable is set needs no binary. With
    ``allow_apt`` and root, missing binaries are installed with apt-get; otherwise, or
    when that fails, ``ServiceError`` carries the install command.
    """
    missing = [name for name in _needed(environ) if which(name) is None]
    if not missing:
        return
    root = _is_root() if is_root is None else is_root
    if not (allow_apt and root and platform.startswith("linux") and which("apt-get")):
        raise ServiceError(_missing_message(missing, platform))
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", *APT_PACKAGES]):
        code = run(argv)
        if code != 0:
            raise ServiceError(f"`{' '.join(argv)}` exited with {code}; "
                               + _missing_message(missing, platform))
    still = [name for name in missing if which(name) is None]
    if still:
        raise ServiceError(_missing_message(still, platform))


# --- processes -------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def mosquitto_config(*, port: int, run_dir: Path, as_root: bool) -> str:
    lines = [
        f"listener {port} {LOOPBACK}",
        "allow_anonymous true",
        "set_tcp_nodelay true",
        "persistence true",
        f"persistence_location {run_dir}/",
        "persistence_file mosquitto.db",
        "autosave_interval 1",
        "max_queued_messages 100000",
        "max_inflight_messages 0",
        f"log_dest file {run_dir / 'mosquitto.log'}",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    if as_root:
        # Without this, a root mosquitto switches to the "mosquitto" user, which cannot
        # write a private run directory.
        lines.append("user root")
    return "\n".join(lines) + "\n"


def redis_argv(binary: str, *, port: int, run_dir: Path) -> list[str]:
    return [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(run_dir),
            "--daemonize", "no", "--logfile", ""]


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
        return True
    return False


def _pongs(port: int) -> bool:
    """True once Redis answers PING with PONG (it answers LOADING while reading its AOF)."""
    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            reply += chunk
        return reply.startswith(b"+PONG")
    return False


class _PortInUseError(ServiceError):
    pass


class _Daemon:
    """One server process: its command line, readiness probe, log and pid file."""

    def __init__(self, name: str, *, run_dir: Path, argv: Callable[[int], list[str]],
                 probe: Callable[[int], bool], ready_timeout_s: float) -> None:
        self.name = name
        self.port = 0
        self._run_dir = run_dir
        self._argv = argv
        self._probe = probe
        self._ready_timeout_s = ready_timeout_s
        self._log = run_dir / f"{name}.log"
        self._pid_file = run_dir / f"{name}.pid"
        self._log_start = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> None:
        self._refuse_if_left_running()
        self.port = port
        self._log_start = self._log.stat().st_size if self._log.exists() else 0
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                self._argv(port), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self._run_dir, start_new_session=True)
        self._pid_file.write_text(f"{self._proc.pid}\n", encoding="ascii")
        self._wait_ready(self._proc)

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self._ready_timeout_s
        while True:
            code = proc.poll()
            if code is not None:
                self._forget()
                tail = self.log_tail()
                error = _PortInUseError if "Address already in use" in tail else ServiceError
                raise error(f"{self.name} exited with {code} while starting on port "
                            f"{self.port}; {self._log} ends with:\n{tail}")
            if self._probe(self.port) and proc.poll() is None:
                return
            if time.monotonic() >= deadline:
                self.stop()
                raise ServiceError(f"{self.name} not ready on {LOOPBACK}:{self.port} after "
                                   f"{self._ready_timeout_s:g} s; {self._log} ends with:\n"
                                   f"{self.log_tail()}")
            time.sleep(_POLL_S)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._pid_file.unlink(missing_ok=True)

    def _forget(self) -> None:
        self._proc = None
        self._pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            with self._log.open("rb") as log:
                log.seek(self._log_start)
                text = log.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def _refuse_if_left_running(self) -> None:
        try:
            pid = int(self._pid_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        cmdline = Path(f"/proc/{pid}/cmdline")
        with contextlib.suppress(OSError):
            if self.name.encode() not in cmdline.read_bytes():
                return
        raise ServiceError(f"{self._run_dir} is in use by {self.name} (pid {pid}), left "
                           f"running by an earlier run; stop it with `kill {pid}` or use "
                           "another run directory")


class LocalServices:
    """Mosquitto and Redis for one run: from the environment, or started here.

    A reusable, non-reentrant context manager; not thread-safe. From asyncio, enter and
    leave it with ``asyncio.to_thread``. The run directory is left in place on exit.
    """

    def __init__(self, *, run_dir: Path, environ: Mapping[str, str] | None = None,
                 which: Which = find_binary, ready_timeout_s: float = READY_TIMEOUT_S) -> None:
        self.run_dir = run_dir
        self._environ: Mapping[str, str] = environ if environ is not None else {}
        self._which = which
        self._ready_timeout_s = ready_timeout_s
        self._entered = False
        self._urls: ServiceUrls | None = None
        self._mqtt: _Daemon | None = None
        self._redis: _Daemon | None = None

    @property
    def urls(self) -> ServiceUrls:
        if self._urls is None:
            raise ServiceError("LocalServices has no URLs outside its `with` block")
        return self._urls

    def __enter__(self) -> LocalServices:
        if self._entered:
            raise ServiceError("LocalServices is already running; it is not reentrant")
        self._entered = True
        try:
            self._urls = ServiceUrls(mqtt_url=self._start_mqtt(), redis_url=self._start_redis())
        except BaseException:
            self._shutdown()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._shutdown()

    def restart_mqtt(self) -> None:
        """Stop the broker and start it again on the same port with the same data."""
        self._restart(self._mqtt, MQTT_URL_ENV)

    def restart_redis(self) -> None:
        """Stop Redis and start it again on the same port with the same data."""
        self._restart(self._redis, REDIS_URL_ENV)

    def _restart(self, daemon: _Daemon | None, variable: str) -> None:
        if not self._entered:
            raise ServiceError("LocalServices is not running")
        if daemon is None:
            raise ServiceError(f"{variable} is set, so that service is not ours to restart")
        port = daemon.port
        daemon.stop()
        daemon.start(port)

    def _start_mqtt(self) -> str:
        url = self._environ.get(MQTT_URL_ENV)
        if url:
            parse_mqtt_url(url)
            return url
        binary = self._binary("mosquitto")
        as_root = _is_root()
        config = self.run_dir / "mosquitto.conf"

        def argv(port: int) -> list[str]:
            text = mosquitto_config(port=port, run_dir=self.run_dir, as_root=as_root)
            config.write_text(text, encoding="utf-8")
            return [binary, "-c", str(config)]

        self._mqtt = self._daemon("mosquitto", argv, _accepts)
        return f"mqtt://{LOOPBACK}:{self._mqtt.port}"

    def _start_redis(self) -> str:
        url = self._environ.get(REDIS_URL_ENV)
        if url:
            parse_redis_url(url)
            return url
        binary = self._binary("redis-server")
        self._redis = self._daemon(
            "redis", lambda port: redis_argv(binary, port=port, run_dir=self.run_dir), _pongs)
        return f"redis://{LOOPBACK}:{self._redis.port}"

    def _binary(self, name: str) -> str:
        binary = self._which(name)
        if binary is None:
            raise ServiceError(_missing_message([name], sys.platform))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return binary

    def _daemon(self, name: str, argv: Callable[[int], list[str]],
                probe: Callable[[int], bool]) -> _Daemon:
        daemon = _Daemon(name, run_dir=self.run_dir, argv=argv, probe=probe,
                         ready_timeout_s=self._ready_timeout_s)
        attempts_left = _START_ATTEMPTS
        while True:
            try:
                daemon.start(free_port())
            except _PortInUseError:
                attempts_left -= 1
                if attempts_left == 0:
                    raise
            else:
                return daemon

    def _shutdown(self) -> None:
        daemons = [d for d in (self._redis, self._mqtt) if d is not None]
        self._mqtt = self._redis = None
        self._urls = None
        self._entered = False
        for daemon in daemons:
            daemon.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.local_services",
                                     description="Local Mosquitto and Redis for telematics.")
    parser.add_argument("--ensure", action="store_true", required=True,
                        help="check for mosquitto and redis-server; as root, apt-get install "
                             "them when missing; otherwise say what to install")
    parser.parse_args(argv)
    try:
        ensure_installed(allow_apt=_is_root(), environ=os.environ)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    found = ", ".join(f"{name} {find_binary(name) or '(from the environment)'}"
                      for name in BINARIES)
    print(f"local services: {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
