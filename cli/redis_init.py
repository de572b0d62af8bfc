"""``telematics redis-users``: the two Redis instances' users and passwords, ahead of time.

What ``LocalServices`` makes in a run directory on the fly (``cli.redis_users``), made
for services that start apart, as docker compose starts them::

    DIR/redis-credentials.json   the passwords of oem, relay and psap (0600)
    DIR/oem.acl                  the OEM instance's users (default off, oem)
    DIR/psap.acl                 the PSAP instance's users (default off, relay, psap)

The ACL files hold only the passwords' SHA-256. ``url`` prints one user's URL, with its
password, for a process's environment; it is meant for entry scripts, never for logs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Final

import typer

from cli.output import bad_input, fail
from cli.redis_users import (
    CREDENTIALS_FILE,
    OEM_INSTANCE,
    PSAP_INSTANCE,
    USERS,
    Credentials,
    acl_text,
    load_or_create,
    write_private,
)

app = typer.Typer(no_args_is_help=True)
ACL_FILES: Final = {"oem.acl": OEM_INSTANCE, "psap.acl": PSAP_INSTANCE}

DirOpt = Annotated[Path, typer.Option("--dir", help="where the passwords and ACL files are "
                                      "kept")]


def initialise(directory: Path) -> list[Path]:
    """Create (or keep) the passwords and write both instances' ACL files."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    credentials = load_or_create(directory)
    written = []
    for name, users in ACL_FILES.items():
        path = directory / name
        write_private(path, acl_text(users, credentials))
        written.append(path)
    return written


@app.command("init")
def init(directory: DirOpt = Path(".run/redis")) -> None:
    """Create the Redis users' passwords (once) and both instances' ACL files."""
    for path in initialise(directory):
        typer.echo(f"wrote {path}")


@app.command("url")
def url(
    user: Annotated[str, typer.Option(help="|".join(USERS))],
    host: Annotated[str, typer.Option(help="the Redis instance's host name")],
    directory: DirOpt = Path(".run/redis"),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 6379,
) -> None:
    """Print ``redis://USER:PASSWORD@HOST:PORT`` for an entry script's environment."""
    if user not in USERS:
        bad_input(f"--user must be one of {', '.join(USERS)}")
    path = directory / CREDENTIALS_FILE
    try:  # read only: the backend mounts the directory read-only
        passwords = json.loads(path.read_text(encoding="utf-8"))
        password = passwords[user]
    except (OSError, ValueError, KeyError, TypeError):
        fail(f"no password for {user} in {path}; run `telematics redis-users init` first")
    typer.echo(Credentials({user: str(password)}).url(user, host=host, port=port))
