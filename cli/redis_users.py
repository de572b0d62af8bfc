"""Who may do what on the two local Redis instances, and their passwords.

The OEM data and the PSAP domain (Legal eCalls, PSAP incidents, the PSAP desks' streams)
live in two Redis instances. The PSAP one stands for the public authority's systems: the
OEM must not keep Legal eCall data, so its roles may only hand eCalls over, never read
them back. Each instance disables its ``default`` user and has its own users:

- OEM instance: ``oem`` (every OEM role, the API's OEM routes; all commands).
- PSAP instance: ``relay`` (the emergency lane and the call centre's hand-over; may only
  run the hand-off script, which sets ``psap:seen:*`` and appends to ``psap:intake:*``)
  and ``psap`` (the PSAP desks and the API's PSAP routes; every ``psap:*`` key, no
  administration).

Passwords are generated once per run directory and kept in a 0600 JSON file there; the
ACL files Redis reads hold only their SHA-256, so a password is never on a command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

OEM_USER: Final = "oem"
RELAY_USER: Final = "relay"
PSAP_USER: Final = "psap"
USERS: Final = (OEM_USER, RELAY_USER, PSAP_USER)
CREDENTIALS_FILE: Final = "redis-credentials.json"

# What a client library needs on any connection: AUTH/HELLO, PING for health checks,
# CLIENT SETINFO (redis-py names itself), SELECT for a database number.
_CONNECTION: Final = ("+@connection", "-@admin", "-@dangerous", "+select")

OEM_RULES: Final = ("~*", "&*", "+@all")
# The hand-off (backend/infra/streams.py) is one Lua script: EVALSHA, falling back to SCRIPT LOAD
# or EVAL; the SET and XADD it runs are checked against the same key patterns.
RELAY_RULES: Final = ("resetkeys", "~psap:intake:*", "~psap:seen:*", "resetchannels", "-@all",
                      *_CONNECTION, "+evalsha", "+eval", "+script|load", "+set", "+xadd")
PSAP_RULES: Final = ("resetkeys", "~psap:*", "resetchannels", "+@all", "-@admin",
                     "-@dangerous", "+select")

OEM_INSTANCE: Final[Mapping[str, Sequence[str]]] = {OEM_USER: OEM_RULES}
PSAP_INSTANCE: Final[Mapping[str, Sequence[str]]] = {RELAY_USER: RELAY_RULES,
                                                     PSAP_USER: PSAP_RULES}


@dataclass(frozen=True, slots=True)
class Credentials:
    """The passwords of the run's Redis users; ``repr`` shows none of them."""

    passwords: Mapping[str, str]

    def __repr__(self) -> str:
        return f"Credentials(users={sorted(self.passwords)})"

    def password(self, user: str) -> str:
        return self.passwords[user]

    def url(self, user: str, *, host: str, port: int) -> str:
        """``redis://USER:PASSWORD@HOST:PORT``: token_urlsafe passwords need no quoting."""
        return f"redis://{user}:{self.passwords[user]}@{host}:{port}"


def acl_text(users: Mapping[str, Sequence[str]], credentials: Credentials) -> str:
    """An ACL file: ``default`` off, each user on with its password's hash and rules.

    ``default`` is off, so no connection is ever it (nobody can AUTH as a disabled user,
    and a new connection is not logged in as it). Its permissions stay whole all the same:
    Redis 7.0 replays the append-only file as ``default``, and with ``-@all`` there it
    refuses every MULTI/EXEC of the AOF on restart and silently loses that data.
    """
    lines = ["user default off ~* &* +@all"]
    for user, rules in users.items():
        digest = hashlib.sha256(credentials.password(user).encode()).hexdigest()
        lines.append(" ".join(("user", user, "on", "resetpass", f"#{digest}", *rules)))
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)


def load_or_create(run_dir: Path) -> Credentials:
    """The run directory's passwords, created on first use (and for a user it lacks)."""
    path = run_dir / CREDENTIALS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            stored = {str(k): str(v) for k, v in loaded.items()}
    passwords = {user: stored.get(user) or secrets.token_urlsafe(32) for user in USERS}
    if passwords != stored:
        write_private(path, json.dumps(passwords, indent=2) + "\n")
    path.chmod(0o600)
    return Credentials(passwords)
