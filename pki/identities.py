"""Who may talk to the broker, by the CN of the certificate each one presents.

A car's CN is its VIN. Everything else is named here, once, so the certificates the
command line issues and the broker's ACL cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Final

from pki.errors import IdentityNameError
from protocols.addresses import (
    BACKEND_IDENTITY_PREFIX,
    BENCH_IDENTITY,
    FLEET_GATEWAY_IDENTITY,
    SCENARIO_RUNNER_IDENTITY,
)

BACKEND_PREFIX: Final = BACKEND_IDENTITY_PREFIX
# One identity per backend role: each role's processes present their role's certificate.
BACKEND_IDENTITIES: Final = ("backend-emergency", "backend-services", "backend-desks",
                             "backend-bulk", "backend-api")
# Announces a scenario's virtual clock; the only identity besides the backend's that
# may write the clock topic.
SCENARIO_RUNNER: Final = SCENARIO_RUNNER_IDENTITY
# One connection that publishes for many emulated cars: the scenario fleet model and the
# benchmark's background telemetry. A deployment never issues it; it may write only the
# bulk kinds (telemetry, Teleservice), never a safety call, and reads nothing.
FLEET_GATEWAY: Final = FLEET_GATEWAY_IDENTITY
# The benchmark: its probe sends eCalls for many cars over one connection, its load
# generator telemetry for many cars over fifty, its floor measures ``bench/v1/#``. Issued
# by the backend CA like the roles (infrastructure, free to choose its client ids), and
# by a local run's CA only.
BENCH: Final = BENCH_IDENTITY
# Names issued by the backend CA and admitted on the backend listener.
INFRASTRUCTURE_PREFIXES: Final = (BACKEND_PREFIX, "bench-")
BROKER_SERVER: Final = "broker"

_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def backend_identity(role: str) -> str:
    """The identity of a backend role (``emergency`` → ``backend-emergency``)."""
    name = BACKEND_PREFIX + role
    if name not in BACKEND_IDENTITIES:
        roles = ", ".join(n.removeprefix(BACKEND_PREFIX) for n in BACKEND_IDENTITIES)
        raise IdentityNameError(f"{role!r} is not a backend role; one of {roles}")
    return name


def is_infrastructure(name: str) -> bool:
    """True for the backend's and the benchmark's identities (the backend CA's)."""
    return name.startswith(INFRASTRUCTURE_PREFIXES)


def check_name(name: str) -> str:
    """An identity name is a CN, an MQTT username and a file name: letters, digits, ``.-_``."""
    if not _NAME.fullmatch(name):
        raise IdentityNameError(f"identity {name!r}: expected 1-64 of A-Z a-z 0-9 . - _, "
                                "starting with a letter or digit")
    return name
