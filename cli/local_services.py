"""Mosquitto and Redis on loopback, for ``telematics up`` and the tests.

For each service, a URL in ``TELEMATICS_MQTT_URL`` / ``TELEMATICS_REDIS_URL`` /
``TELEMATICS_PSAP_REDIS_URL`` wins; otherwise a private process is started on a free
127.0.0.1 port, with its configuration, data and log inside a run directory that outlives
it::

    with LocalServices(run_dir=Path(".run"), environ=os.environ) as services:
        services.urls.mqtt_url        # mqtt://127.0.0.1:PORT
        services.urls.psap_redis_url  # redis://psap:PASSWORD@127.0.0.1:PORT2
        services.restart_redis()      # both Redis instances: same ports, same data

Redis runs as two instances, the OEM one and the PSAP domain's (``cli.redis_users`` says
who may do what on each); both refuse clients without a password, and the URLs handed out
carry the user and password (print them with ``redacted``). With a Redis URL from the
environment and no PSAP one, the PSAP domain is database ``psap_db`` of that same Redis:
the weak mode of a development machine, where every OEM role could read it.

With ``secure=True`` (``telematics up``, ``telematics bench``) the broker has no plaintext
listener: two TLS listeners that take clients with certificates only, from the run's
device CA (cars) and backend CA (backend roles, benchmark), and an ACL per identity
(``pki``); ``services.identity(NAME)`` issues a client its certificate. The tests'
brokers are secure too. The plaintext mode (one anonymous listener) is kept only for
tests that need a bare socket or a client without certificates (``plain_services``).

Both processes keep what they hold across a restart: Mosquitto persists its sessions and
queued QoS 1 messages (saved every second and on exit), Redis appends every write to its
AOF. The broker runs with ``set_tcp_nodelay true`` (docs/decisions/0001-mqtt-client-gmqtt.md).
The processes start with a umask of 0o077 and the run directory is kept private (0700
directories, 0600 files): it holds every Legal MSD in the PSAP AOF, and the passwords.

Errors: ``ServiceError`` (a binary is missing, a service did not come up, a restart was
asked of a service we do not run) > ``ServiceUrlError`` (an environment URL breaks its rule).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final
from urllib.parse import SplitResult, urlsplit

from cli.redis_users import (
    OEM_INSTANCE,
    OEM_USER,
    PSAP_INSTANCE,
    PSAP_USER,
    RELAY_USER,
    Credentials,
    acl_text,
    load_or_create,
    write_private,
)
from pki.authority import CertificateAuthority, ServerFiles
from pki.broker_acl import mosquitto_acl
from pki.identities import is_infrastructure
from protocols.addresses import MqttTls, mqtt_uses_tls

__all__ = [
    "MQTT_URL_ENV",
    "PKI_DIR_ENV",
    "PSAP_REDIS_URL_ENV",
    "PSAP_RELAY_REDIS_URL_ENV",
    "REDIS_URL_ENV",
    "BrokerTls",
    "LocalServices",
    "ServiceError",
    "ServiceUrlError",
    "ServiceUrls",
    "ensure_installed",
    "find_binary",
    "free_port",
    "install_command",
    "main",
    "make_private",
    "mosquitto_config",
    "parse_mqtt_url",
    "parse_redis_url",
    "redacted",
    "redis_argv",
]

MQTT_URL_ENV: Final = "TELEMATICS_MQTT_URL"
PKI_DIR_ENV: Final = "TELEMATICS_PKI_DIR"
REDIS_URL_ENV: Final = "TELEMATICS_REDIS_URL"
# The PSAP domain's Redis: the desks' user, and the relay's (the same URL when unset).
PSAP_REDIS_URL_ENV: Final = "TELEMATICS_PSAP_REDIS_URL"
PSAP_RELAY_REDIS_URL_ENV: Final = "TELEMATICS_PSAP_RELAY_REDIS_URL"
PSAP_DATA_DIR: Final = "redis-psap"
PRIVATE_UMASK: Final = 0o077
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
    """Where the services are. The Redis URLs carry passwords: ``repr`` leaves them out."""

    mqtt_url: str  # mqtt://127.0.0.1:PORT, or mqtts:// (the backend's listener) when secure
    redis_url: str = dataclasses.field(repr=False)  # redis://oem:PASSWORD@127.0.0.1:PORT
    device_mqtt_url: str = ""  # where cars connect; the same as mqtt_url unless secure
    # The PSAP domain: the desks' user and the relay's; the OEM Redis in the weak mode.
    psap_redis_url: str = dataclasses.field(default="", repr=False)
    psap_relay_redis_url: str = dataclasses.field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.psap_redis_url:
            object.__setattr__(self, "psap_redis_url", self.redis_url)
        if not self.psap_relay_redis_url:
            object.__setattr__(self, "psap_relay_redis_url", self.psap_redis_url)

    def redis_fields(self) -> dict[str, str]:
        """The Redis URLs as ``BackendSettings`` fields: ``BackendSettings(**...)``."""
        return {"redis_url": self.redis_url, "psap_redis_url": self.psap_redis_url,
                "psap_relay_redis_url": self.psap_relay_redis_url}

    def redis_environment(self) -> dict[str, str]:
        """The Redis URLs as the ``TELEMATICS_*`` variables a child command reads."""
        return {REDIS_URL_ENV: self.redis_url, PSAP_REDIS_URL_ENV: self.psap_redis_url,
                PSAP_RELAY_REDIS_URL_ENV: self.psap_relay_redis_url}

    @property
    def psap_apart(self) -> bool:
        """True when the PSAP domain has a Redis of its own (not the weak mode)."""
        return _address(self.psap_redis_url) != _address(self.redis_url)

    @property
    def cars_mqtt_url(self) -> str:
        return self.device_mqtt_url or self.mqtt_url


# --- URLs ------------------------------------------------------------------------------------

def _split(url: str, *, variable: str, scheme: str | tuple[str, ...],
           rule: str) -> tuple[SplitResult, str, int | None]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ServiceUrlError(variable, url, rule) from None
    schemes = (scheme,) if isinstance(scheme, str) else scheme
    if (parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment
            or port == 0):
        raise ServiceUrlError(variable, url, rule)
    return parts, parts.hostname, port


def parse_mqtt_url(url: str, *, variable: str = MQTT_URL_ENV) -> tuple[str, int]:
    """``mqtt[s]://HOST[:PORT]`` → ``(host, port)``; the port defaults to 1883 (8883 TLS)."""
    rule = "expected mqtt[s]://HOST[:PORT] with a port in 1..65535 and no path"
    parts, host, port = _split(url, variable=variable, scheme=("mqtt", "mqtts"), rule=rule)
    if parts.path not in ("", "/") or parts.username or parts.password:
        raise ServiceUrlError(variable, url, rule)
    return host, port or (8883 if parts.scheme == "mqtts" else 1883)


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***``, for printing and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


def _address(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


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


# Broker limits of the secure configuration, and why each has the value it has.
# The largest legitimate message is the ~200 KB workshop map downlink (then the 50 KB
# Teleservice call); 512 KiB leaves 2.5x headroom for a map that grows, and refuses the
# 20 MB "eCall" outright: the broker drops the connection before the message is routed.
MAX_PACKET_BYTES: Final = 512 * 1024
# Each car is one connection; a local run has its scenario's cars, one fleet gateway,
# about ten backend connections, fifty in the benchmark, and `telematics load`'s fleet:
# 10,000 cars and more (that command raises the open-file limit the broker inherits).
MAX_CONNECTIONS: Final = 16384
# A worker's persistent session may hold 100,000 eCalls (< 1 KB each) while it restarts;
# the byte bound stops one session's queue (e.g. workshop maps) from eating the broker.
MAX_QUEUED_MESSAGES: Final = 100_000
MAX_QUEUED_BYTES: Final = 128 * 1024 * 1024
# A session nobody resumes within a day is dropped: a car that reconnects later only
# misses downlinks it would no longer act on, and abandoned sessions cannot pile up.
PERSISTENT_CLIENT_EXPIRATION: Final = "1d"


@dataclass(frozen=True, slots=True)
class BrokerTls:
    """The two TLS listeners and the ACL file naming what each identity may do.

    Cars (and the other device identities) connect to ``device_port``, whose CA is the
    device CA; the backend connects to the main port, whose CA is the backend CA only, so
    a car's certificate cannot even open a backend connection. On the device listener the
    client id is replaced by the certificate's CN (``use_username_as_clientid``): a car
    is always its VIN and cannot take over a backend worker's session by its client id,
    which Mosquitto 2.0.11 cannot otherwise tie to an identity.
    """

    backend: ServerFiles
    devices: ServerFiles
    device_port: int
    acl_file: Path


def _tls_listener_lines(port: int, files: ServerFiles) -> list[str]:
    return [
        f"listener {port} {LOOPBACK}",
        f"cafile {files.ca_file}",
        f"certfile {files.cert_file}",
        f"keyfile {files.key_file}",
        "require_certificate true",
        # The CN becomes the username the ACL is written against (a car's VIN,
        # ``backend-emergency``, ...).
        "use_identity_as_username true",
        "tls_version tlsv1.2",
        f"max_connections {MAX_CONNECTIONS}",
    ]


def _secure_lines(port: int, tls: BrokerTls) -> list[str]:
    return [
        *_tls_listener_lines(port, tls.backend),
        *_tls_listener_lines(tls.device_port, tls.devices),
        "use_username_as_clientid true",
        "allow_anonymous false",
        f"acl_file {tls.acl_file}",
        f"max_packet_size {MAX_PACKET_BYTES}",
        f"max_queued_bytes {MAX_QUEUED_BYTES}",
        f"persistent_client_expiration {PERSISTENT_CLIENT_EXPIRATION}",
        # No topic of the platform is retained: a retained uplink or downlink would be
        # replayed to every new subscriber, and Mosquitto's ACL cannot allow retain on one
        # topic only, so the scenario runner re-announces its clock instead.
        "retain_available false",
        # Connection lines name the client id and username, which is a car's VIN; the
        # subscribe/unsubscribe log types name topics, which hold it too.
        "connection_messages false",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
    ]


def mosquitto_config(*, port: int, run_dir: Path, as_root: bool,
                     tls: BrokerTls | None = None) -> str:
    """Mosquitto's configuration; with ``tls`` only the two TLS listeners, no plaintext."""
    lines = [
        *(_secure_lines(port, tls) if tls is not None
          else [f"listener {port} {LOOPBACK}", "allow_anonymous true"]),
        "set_tcp_nodelay true",
        "persistence true",
        f"persistence_location {run_dir}/",
        "persistence_file mosquitto.db",
        "autosave_interval 1",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        "max_inflight_messages 0",
        f"log_dest file {run_dir / 'mosquitto.log'}",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    if as_root:
        # Without this, a root mosquitto switches to the "mosquitto" user, which cannot
        # write a private run directory.
        lines.append("user root")
    return "\n".join(lines) + "\n"


def redis_argv(binary: str, *, port: int, run_dir: Path,
               acl_file: Path | None = None) -> list[str]:
    """Redis with an AOF in ``run_dir``; with ``acl_file``, only the users it names."""
    return [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(run_dir),
            "--daemonize", "no", "--logfile", "",
            *(["--aclfile", str(acl_file)] if acl_file is not None else [])]


def make_private(root: Path) -> None:
    """Directories under ``root`` 0700, files 0600 (symbolic links are left alone)."""
    if not root.is_dir():
        return
    root.chmod(0o700)
    for directory, subdirs, files in os.walk(root):
        for name in subdirs:
            path = Path(directory, name)
            if not path.is_symlink():
                path.chmod(0o700)
        for name in files:
            path = Path(directory, name)
            if not path.is_symlink():
                with contextlib.suppress(FileNotFoundError):  # a pid file going away
                    path.chmod(0o600)


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
        return True
    return False


def _command(*words: str) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _pongs(port: int, user: str, password: str) -> bool:
    """True once Redis takes ``user``'s password and answers PING with PONG (it answers
    LOADING while reading its AOF)."""
    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5) as s:
        s.sendall(_command("AUTH", user, password) + _command("PING"))
        reply = b""
        while reply.count(b"\r\n") < 2:
            chunk = s.recv(256)
            if not chunk:
                break
            reply += chunk
        return reply.startswith(b"+OK\r\n") and b"\r\n+PONG\r\n" in reply
    return False


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


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
        with open(self._log, "ab", opener=_private_opener) as log:
            os.fchmod(log.fileno(), 0o600)
            # What the server creates (AOF, RDB, persistence file, its own log) is private.
            self._proc = subprocess.Popen(
                self._argv(port), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self._run_dir, start_new_session=True,
                umask=PRIVATE_UMASK)
        write_private(self._pid_file, f"{self._proc.pid}\n")
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

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (the service saves what it holds), or with ``kill`` SIGKILL (a crash:
        only what it had written already survives)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            if kill:
                proc.kill()
            else:
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
    """Mosquitto and the two Redis instances for one run: from the environment, or
    started here.

    A reusable, non-reentrant context manager; not thread-safe. From asyncio, enter and
    leave it with ``asyncio.to_thread``. The run directory is left in place on exit.
    """

    def __init__(self, *, run_dir: Path, environ: Mapping[str, str] | None = None,
                 which: Which = find_binary, ready_timeout_s: float = READY_TIMEOUT_S,
                 secure: bool = False) -> None:
        self.run_dir = run_dir
        self.secure = secure
        self._authorities: dict[str, CertificateAuthority] = {}
        self._device_port = 0
        self._environ: Mapping[str, str] = environ if environ is not None else {}
        self._which = which
        self._ready_timeout_s = ready_timeout_s
        self._entered = False
        self._urls: ServiceUrls | None = None
        self._mqtt: _Daemon | None = None
        self._redis: _Daemon | None = None
        self._psap_redis: _Daemon | None = None
        self._credentials: Credentials | None = None

    @property
    def urls(self) -> ServiceUrls:
        if self._urls is None:
            raise ServiceError("LocalServices has no URLs outside its `with` block")
        return self._urls

    def authority(self, *, backend: bool) -> CertificateAuthority:
        """The run's device CA or backend CA (under ``run_dir/pki``, or
        ``$TELEMATICS_PKI_DIR`` for a broker from the environment that trusts them);
        created on first use."""
        given = self._environ.get(PKI_DIR_ENV)
        root = Path(given) if given else self.run_dir / "pki"
        which = "backend" if backend else "devices"
        if which not in self._authorities:
            self._authorities[which] = CertificateAuthority(root / which)
        return self._authorities[which]

    def identity(self, name: str) -> MqttTls | None:
        """The client certificate of ``name`` (a VIN, ``backend-emergency``, ...) when the
        broker wants one, else ``None``: what a client passes to ``connect``. Backend and
        benchmark names come from the backend CA, every other name from the device CA."""
        if not mqtt_uses_tls(self.urls.mqtt_url):
            return None
        return self.authority(backend=is_infrastructure(name)).issue(name)

    def __enter__(self) -> LocalServices:
        if self._entered:
            raise ServiceError("LocalServices is already running; it is not reentrant")
        self._entered = True
        try:
            mqtt_url = self._start_mqtt()
            device_url = (f"mqtts://{LOOPBACK}:{self._device_port}" if self._device_port
                          else mqtt_url)
            redis_url = self._start_redis()
            psap_url, relay_url = self._start_psap_redis(redis_url)
            self._urls = ServiceUrls(mqtt_url=mqtt_url, redis_url=redis_url,
                                     device_mqtt_url=device_url, psap_redis_url=psap_url,
                                     psap_relay_redis_url=relay_url)
            if self._mqtt or self._redis or self._psap_redis:
                make_private(self.run_dir)
        except BaseException:
            self._shutdown()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._shutdown()

    def restart_mqtt(self, *, kill: bool = False) -> None:
        """Stop the broker and start it again on the same port with the same data; with
        ``kill``, SIGKILL it first (it keeps what its last autosave wrote)."""
        self._restart(self._mqtt, MQTT_URL_ENV, kill=kill)

    @contextlib.contextmanager
    def mqtt_down(self) -> Iterator[None]:
        """The broker stopped for the body of a ``with`` and then started again on the same
        port with the same data: an outage of any length, for what must wait it out."""
        if not self._entered or self._mqtt is None:
            raise ServiceError("the broker is not ours to stop")
        port = self._mqtt.port
        self._mqtt.stop()
        try:
            yield
        finally:
            self._mqtt.start(port)

    def restart_redis(self, *, kill: bool = False) -> None:
        """Stop both Redis instances and start them again on the same ports with the same
        data (the PSAP one only when it is ours: in the weak mode it is the OEM one); with
        ``kill``, SIGKILL them first, as a crash would."""
        self._restart(self._redis, REDIS_URL_ENV, kill=kill)
        if self._psap_redis is not None:
            self._restart(self._psap_redis, PSAP_REDIS_URL_ENV, kill=kill)

    def _restart(self, daemon: _Daemon | None, variable: str, *, kill: bool = False) -> None:
        if not self._entered:
            raise ServiceError("LocalServices is not running")
        if daemon is None:
            raise ServiceError(f"{variable} is set, so that service is not ours to restart")
        port = daemon.port
        daemon.stop(kill=kill)
        daemon.start(port)

    def _start_mqtt(self) -> str:
        url = self._environ.get(MQTT_URL_ENV)
        if url:
            parse_mqtt_url(url)
            return url
        binary = self._binary("mosquitto")
        as_root = _is_root()
        config = self.run_dir / "mosquitto.conf"
        tls = self._broker_tls() if self.secure else None

        def probe(port: int) -> bool:
            return _accepts(port) and (not self._device_port or _accepts(self._device_port))

        def argv(port: int) -> list[str]:
            if tls is not None and self._mqtt is None:
                # A first start (or a retry after a port clash) takes a fresh device port
                # too; a restart keeps both ports, as the URLs handed out promise.
                self._device_port = free_port()
            listeners = (None if tls is None
                         else dataclasses.replace(tls, device_port=self._device_port))
            text = mosquitto_config(port=port, run_dir=self.run_dir, as_root=as_root,
                                    tls=listeners)
            config.write_text(text, encoding="utf-8")
            return [binary, "-c", str(config)]

        self._mqtt = self._daemon("mosquitto", argv, probe)
        return f"{'mqtts' if self.secure else 'mqtt'}://{LOOPBACK}:{self._mqtt.port}"

    def _broker_tls(self) -> BrokerTls:
        acl_file = self.run_dir / "mosquitto.acl"
        acl_file.write_text(mosquitto_acl(), encoding="utf-8")
        return BrokerTls(backend=self.authority(backend=True).server(),
                         devices=self.authority(backend=False).server(),
                         device_port=0, acl_file=acl_file)  # chosen at each first start

    def _start_redis(self) -> str:
        url = self._environ.get(REDIS_URL_ENV)
        if url:
            parse_redis_url(url)
            return url
        self._redis = self._redis_daemon("redis", self.run_dir, OEM_INSTANCE, OEM_USER)
        return self._redis_credentials().url(OEM_USER, host=LOOPBACK, port=self._redis.port)

    def _start_psap_redis(self, oem_url: str) -> tuple[str, str]:
        """The PSAP domain's (desks' URL, relay's URL): from the environment, the OEM
        Redis itself (weak mode, when only the OEM one is given), or an instance of its own."""
        url = self._environ.get(PSAP_REDIS_URL_ENV)
        if url:
            parse_redis_url(url, variable=PSAP_REDIS_URL_ENV)
            relay = self._environ.get(PSAP_RELAY_REDIS_URL_ENV) or url
            parse_redis_url(relay, variable=PSAP_RELAY_REDIS_URL_ENV)
            return url, relay
        if self._environ.get(REDIS_URL_ENV):
            return oem_url, oem_url
        data_dir = self.run_dir / PSAP_DATA_DIR
        data_dir.mkdir(mode=0o700, exist_ok=True)
        self._psap_redis = self._redis_daemon("redis-psap", data_dir, PSAP_INSTANCE, PSAP_USER)
        credentials, port = self._redis_credentials(), self._psap_redis.port
        return (credentials.url(PSAP_USER, host=LOOPBACK, port=port),
                credentials.url(RELAY_USER, host=LOOPBACK, port=port))

    def _redis_credentials(self) -> Credentials:
        if self._credentials is None:
            self._credentials = load_or_create(self.run_dir)
        return self._credentials

    def _redis_daemon(self, name: str, data_dir: Path, users: Mapping[str, Sequence[str]],
                      probe_user: str) -> _Daemon:
        """A Redis with its AOF in ``data_dir``, whose ACL file names only ``users``."""
        binary = self._binary("redis-server")
        credentials = self._redis_credentials()
        acl_file = self.run_dir / f"{name}.acl"
        write_private(acl_file, acl_text(users, credentials))
        password = credentials.password(probe_user)
        return self._daemon(
            name, lambda port: redis_argv(binary, port=port, run_dir=data_dir, acl_file=acl_file),
            lambda port: _pongs(port, probe_user, password))

    def _binary(self, name: str) -> str:
        binary = self._which(name)
        if binary is None:
            raise ServiceError(_missing_message([name], sys.platform))
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.run_dir.chmod(0o700)
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
        daemons = [d for d in (self._psap_redis, self._redis, self._mqtt) if d is not None]
        self._mqtt = self._redis = self._psap_redis = None
        self._urls = None
        self._device_port = 0
        self._entered = False
        for daemon in daemons:
            daemon.stop()
        if daemons:
            # What the run added meanwhile (certificates, keys, reports) is private too.
            with contextlib.suppress(OSError):
                make_private(self.run_dir)


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
