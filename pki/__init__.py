"""Identities for local runs: a CA per run directory, a certificate per car and per
backend role, the broker's certificate, and the broker ACL those identities imply.

``backend`` and ``vehicle_sim`` never import this: they take certificate paths
(``protocols.addresses.MqttTls``) or SSL contexts, so a deployment can bring its own CA.
"""

from pki.authority import CertificateAuthority, ServerFiles
from pki.errors import IdentityNameError, PkiError
from pki.identities import (
    BACKEND_IDENTITIES,
    FLEET_GATEWAY,
    SCENARIO_RUNNER,
    backend_identity,
)

__all__ = [
    "BACKEND_IDENTITIES",
    "FLEET_GATEWAY",
    "SCENARIO_RUNNER",
    "CertificateAuthority",
    "IdentityNameError",
    "PkiError",
    "ServerFiles",
    "backend_identity",
]
