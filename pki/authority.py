"""A certificate authority in a directory: the CA of a local run and what it issues.

Local runs need a broker that knows every client by its certificate, so the command line
makes a CA once per run directory and issues from it: one certificate per car (CN = VIN),
one per backend role, one for the scenario runner, and the broker's own for
127.0.0.1/localhost. EC P-256 keys, because a fleet of thousands must be issued in
seconds (RSA key generation alone is ~1000 times slower). A deployment brings its own CA
and never runs this.

Layout (directories 0700, private keys 0600)::

    DIR/ca.crt  DIR/ca.key  DIR/issued/NAME.crt  DIR/issued/NAME.key

Issuing a name again reuses its files while the certificate is valid for another day.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.errors import PkiError
from pki.identities import BROKER_SERVER, check_name
from protocols.addresses import MqttTls

CA_NAME: Final = "telematics local CA"
CA_VALIDITY: Final = dt.timedelta(days=3650)
LEAF_VALIDITY: Final = dt.timedelta(days=365)
RENEW_BEFORE: Final = dt.timedelta(days=1)
# A clock a little behind the broker's must not see a fresh certificate as not yet valid.
BACKDATE: Final = dt.timedelta(minutes=5)
SERVER_HOSTS: Final = ("127.0.0.1", "localhost")


@dataclass(frozen=True, slots=True)
class ServerFiles:
    """What the broker's TLS listener needs: the CA to check clients, its own pair."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    """Create (or replace) ``path`` readable by its owner only, from the first byte."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


class CertificateAuthority:
    """The CA kept in ``directory``: created on first use, loaded afterwards."""

    def __init__(self, directory: Path) -> None:
        self.directory = _private_dir(directory)
        self._issued = _private_dir(directory / "issued")
        self.ca_file = directory / "ca.crt"
        self._ca_key_file = directory / "ca.key"
        try:
            self._key, self._cert = self._load() if self.ca_file.exists() else self._create()
        except (OSError, ValueError, TypeError) as exc:
            raise PkiError(f"CA in {directory}: {exc}") from exc

    def _load(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = serialization.load_pem_private_key(self._ca_key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(f"{self._ca_key_file} is not an EC key")
        return key, x509.load_pem_x509_certificate(self.ca_file.read_bytes())

    def _create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        now = _now()
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - BACKDATE).not_valid_after(now + CA_VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256()))
        _write_private(self._ca_key_file, _key_pem(key))
        _write_public(self.ca_file, cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    def issue(self, name: str) -> MqttTls:
        """A client identity with CN ``name`` (a VIN, ``backend-emergency``, ...)."""
        cert_file, key_file = self._issue(check_name(name), server=False)
        return MqttTls(ca_file=self.ca_file, cert_file=cert_file, key_file=key_file)

    def issue_many(self, names: Iterable[str]) -> dict[str, MqttTls]:
        return {name: self.issue(name) for name in names}

    def path_template(self) -> MqttTls:
        """Where any issued identity's files are, with ``{identity}`` for its name: what
        ``TELEMATICS_MQTT_CERT_FILE``/``_KEY_FILE`` take so each backend role finds its own."""
        return MqttTls(ca_file=self.ca_file, cert_file=self._issued / "{identity}.crt",
                       key_file=self._issued / "{identity}.key")

    def server(self, hosts: Sequence[str] = SERVER_HOSTS) -> ServerFiles:
        """The broker's certificate, valid for ``hosts`` (IP addresses and DNS names;
        by default 127.0.0.1 and localhost). An existing valid one is kept as it is."""
        cert_file, key_file = self._issue(BROKER_SERVER, server=True, hosts=hosts)
        return ServerFiles(ca_file=self.ca_file, cert_file=cert_file, key_file=key_file)

    def _issue(self, name: str, *, server: bool,
               hosts: Sequence[str] = SERVER_HOSTS) -> tuple[Path, Path]:
        stem = ("server-" if server else "") + name
        cert_file, key_file = self._issued / f"{stem}.crt", self._issued / f"{stem}.key"
        if self._still_valid(cert_file) and key_file.exists():
            return cert_file, key_file
        key = ec.generate_private_key(ec.SECP256R1())
        _write_private(key_file, _key_pem(key))
        _write_public(cert_file, self._sign(name, key, server=server, hosts=hosts)
                      .public_bytes(serialization.Encoding.PEM))
        return cert_file, key_file

    def _still_valid(self, cert_file: Path) -> bool:
        try:
            cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        except (OSError, ValueError):
            return False
        try:
            cert.verify_directly_issued_by(self._cert)
        except (ValueError, TypeError, InvalidSignature):
            return False  # left by a CA this directory no longer holds
        return cert.not_valid_after_utc - RENEW_BEFORE > _now()

    def _sign(self, name: str, key: ec.EllipticCurvePrivateKey, *,
              server: bool, hosts: Sequence[str]) -> x509.Certificate:
        now = _now()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                   .issuer_name(self._cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - BACKDATE).not_valid_after(now + LEAF_VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [_alt_name(host) for host in hosts]), critical=False)
        return builder.sign(self._key, hashes.SHA256())
