"""Broker and Redis addresses as users write them (``mqtt://host:port``), parsed once.

Both sides of the wire and the command line read these, so the rule lives here, and so
does the rule for a TLS broker (``mqtts://``): every client then presents a certificate
of its own (``MqttTls``), which the broker's ACL knows it by.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from protocols.errors import ProtocolError

# Identities the broker's ACL names (a certificate's CN); a car's identity is its VIN.
BACKEND_IDENTITY_PREFIX = "backend-"  # + the role: backend-emergency, backend-api, ...
SCENARIO_RUNNER_IDENTITY = "scenario-runner"  # announces a scenario's virtual clock
FLEET_GATEWAY_IDENTITY = "fleet-gateway"  # one connection for many emulated cars' bulk calls
BENCH_IDENTITY = "bench-client"  # the benchmark's probe, floor and load generator

_DEFAULT_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}
_TLS_SCHEMES = frozenset({"mqtts", "ssl"})


@dataclass(frozen=True, slots=True)
class MqttTls:
    """One client's identity on a TLS broker: the CA that vouches for the broker (and for
    every client), the client's certificate and its private key, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def context(self) -> ssl.SSLContext:
        """A client context that checks the broker against ``ca_file`` and its name, and
        presents this certificate; reads the three files (the one I/O here)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


def mqtt_address(url: str, *, setting: str = "TELEMATICS_MQTT_URL") -> tuple[str, int]:
    """``mqtt://host:port`` (or ``tcp://``; ``mqtts://`` for TLS) → (host, port); the port
    defaults to 1883, 8883 with TLS."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or port == -1:
        raise ProtocolError(f"{url!r} is not mqtt://HOST:PORT or mqtts://HOST:PORT",
                            field=setting, rule="mqtt[s]://HOST:PORT")
    return parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def mqtt_uses_tls(url: str) -> bool:
    """True for ``mqtts://`` (and ``ssl://``): the broker wants a client certificate."""
    return urlsplit(url).scheme in _TLS_SCHEMES


def mqtt_ssl(url: str, tls: MqttTls | ssl.SSLContext | None, *,
             setting: str = "TELEMATICS_MQTT_URL") -> ssl.SSLContext | bool:
    """What to hand an MQTT client's ``connect(ssl=...)``: a context for ``mqtts://``,
    ``False`` for plaintext. A TLS URL without an identity, or an identity for a
    plaintext URL, is a configuration mistake and is refused rather than guessed."""
    if not mqtt_uses_tls(url):
        if tls is not None:
            raise ProtocolError(f"{url!r} is plaintext but a client certificate was given",
                                field=setting, rule="mqtts://HOST:PORT with a certificate")
        return False
    if tls is None:
        raise ProtocolError(f"{url!r} needs a client certificate (CA, certificate, key)",
                            field=setting, rule="mqtts:// needs a client certificate")
    return tls if isinstance(tls, ssl.SSLContext) else tls.context()
