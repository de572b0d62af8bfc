"""``telematics pki init``: the CAs and certificates of a local or compose run, in one place.

What ``telematics up`` makes in its run directory on the fly, made ahead of time for
processes that run apart (``backend run``, ``sim run``, the broker of docker compose)::

    DIR/devices/ca.crt ca.key issued/   the device CA: the broker's device listener,
                                        scenario-runner, fleet-gateway (cars: on the fly)
    DIR/backend/ca.crt ca.key issued/   the backend CA: the broker's backend listener,
                                        backend-emergency ... backend-api
    DIR/mosquitto.acl                   the broker's ACL (pki.broker_acl)

Directories 0700, keys 0600; running it again keeps what is still valid. A deployment
brings its own CA instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Final

import typer

from cli.certificates import issue_backend
from cli.output import fail
from pki.authority import SERVER_HOSTS, CertificateAuthority
from pki.broker_acl import mosquitto_acl
from pki.errors import PkiError
from pki.identities import FLEET_GATEWAY, SCENARIO_RUNNER

app = typer.Typer(no_args_is_help=True)

ACL_FILE: Final = "mosquitto.acl"
DEVICE_SIDE_IDENTITIES: Final = (SCENARIO_RUNNER, FLEET_GATEWAY)


def initialise(directory: Path, *, hosts: Sequence[str] = SERVER_HOSTS) -> list[Path]:
    """Create (or keep) everything above in ``directory``; the files a broker and the
    clients are pointed at, CA certificates first."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    devices = CertificateAuthority(directory / "devices")
    backend = CertificateAuthority(directory / "backend")
    device_server, backend_server = devices.server(hosts), backend.server(hosts)
    devices.issue_many(DEVICE_SIDE_IDENTITIES)
    roles = issue_backend(backend)
    acl = directory / ACL_FILE
    acl.write_text(mosquitto_acl(), encoding="utf-8")
    return [devices.ca_file, backend.ca_file, device_server.cert_file,
            backend_server.cert_file, roles.cert_file, acl]


@app.command("init")
def init(
    directory: Annotated[Path, typer.Option("--dir", help="where the CAs and what they "
                                            "issue are kept")] = Path(".run/pki"),
    hosts: Annotated[list[str] | None, typer.Option(
        "--host", help="a name or address clients reach the broker by (repeatable; "
        f"default: {', '.join(SERVER_HOSTS)})")] = None,
) -> None:
    """Create the device and backend CAs, the broker's certificates, every backend
    role's, the scenario runner's and the fleet gateway's, and the broker's ACL."""
    try:
        files = initialise(directory, hosts=hosts or SERVER_HOSTS)
    except (OSError, PkiError) as exc:
        fail(str(exc))
    for path in files:
        typer.echo(str(path))
