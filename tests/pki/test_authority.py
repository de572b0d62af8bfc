"""The local CA: what it issues, where, with which permissions, and that it reuses."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pki.authority import CertificateAuthority
from pki.broker_acl import mosquitto_acl
from pki.errors import IdentityNameError
from pki.identities import BACKEND_IDENTITIES, backend_identity

VIN = "WMW21DH0X0T123451"


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_authority_issues_vin_as_cn_signed_by_its_ca(tmp_path: Path) -> None:
    """A car's certificate names its VIN, is EC P-256 and verifies against the CA."""
    ca = CertificateAuthority(tmp_path / "pki")
    files = ca.issue(VIN)
    cert = _cert(files.cert_file)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == VIN
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    cert.verify_directly_issued_by(_cert(files.ca_file))


def test_authority_keeps_keys_private(tmp_path: Path) -> None:
    """Private keys are 0600 and the directories that hold them 0700."""
    ca = CertificateAuthority(tmp_path / "pki")
    files = ca.issue("backend-emergency")
    assert _mode(files.key_file) == 0o600
    assert _mode(tmp_path / "pki" / "ca.key") == 0o600
    assert _mode(tmp_path / "pki") == 0o700
    assert _mode(files.key_file.parent) == 0o700


def test_authority_reuses_ca_and_issued_files(tmp_path: Path) -> None:
    """A second CA object on the same directory keeps the CA and the issued pair."""
    first = CertificateAuthority(tmp_path / "pki").issue(VIN)
    before = first.cert_file.read_bytes(), first.key_file.read_bytes()
    again = CertificateAuthority(tmp_path / "pki").issue(VIN)
    assert again == first
    assert (again.cert_file.read_bytes(), again.key_file.read_bytes()) == before


def test_authority_reissues_what_another_ca_signed(tmp_path: Path) -> None:
    """Files left by a replaced CA are not reused: the new CA issues afresh."""
    old = CertificateAuthority(tmp_path / "pki").issue(VIN)
    old_cert = old.cert_file.read_bytes()
    (tmp_path / "pki" / "ca.crt").unlink()
    (tmp_path / "pki" / "ca.key").unlink()
    new = CertificateAuthority(tmp_path / "pki").issue(VIN)
    assert new.cert_file.read_bytes() != old_cert
    _cert(new.cert_file).verify_directly_issued_by(_cert(new.ca_file))


def test_authority_server_certificate_serves_loopback(tmp_path: Path) -> None:
    """The broker's certificate names 127.0.0.1 and localhost, for a client that checks."""
    server = CertificateAuthority(tmp_path / "pki").server()
    names = _cert(server.cert_file).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_authority_identity_loads_as_client_context(tmp_path: Path) -> None:
    """An issued identity becomes an SSL context that verifies the broker."""
    context = CertificateAuthority(tmp_path / "pki").issue(VIN).context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


@pytest.mark.parametrize("name", ["", "a/b", "../x", "car#1", "x" * 65])
def test_authority_refuses_unsafe_names(tmp_path: Path, name: str) -> None:
    """A name that is not a safe CN and file name is refused, naming the rule."""
    with pytest.raises(IdentityNameError, match="expected"):
        CertificateAuthority(tmp_path / "pki").issue(name)


def test_identities_backend_identity_names_known_roles_only() -> None:
    """Every backend role has its identity; anything else is refused."""
    assert backend_identity("emergency") == "backend-emergency"
    with pytest.raises(IdentityNameError, match="not a backend role"):
        backend_identity("cars")


def test_broker_acl_gives_cars_their_vin_and_backend_the_lanes() -> None:
    """The ACL's car pattern is per VIN; every backend identity reads uplinks, writes
    downlinks and probes; only backend and runner write the clock."""
    acl = mosquitto_acl().splitlines()
    assert [line for line in acl if line.startswith("pattern")] == [
        "pattern write tcu/v1/%u/#", "pattern read cmd/v1/%u/#", "pattern write psap/v1/+/voice"]
    for name in BACKEND_IDENTITIES:
        block = acl[acl.index(f"user {name}") + 1:]
        block = block[:block.index("")] if "" in block else block
        assert {"topic read tcu/v1/#", "topic read psap/v1/#", "topic write cmd/v1/+/#",
                "topic readwrite backend/v1/probe/#",
                "topic readwrite sim/v1/clock"} == set(block)
    runner = acl[acl.index("user scenario-runner") + 1:]
    assert runner[:1] == ["topic write sim/v1/clock"]
    assert not any(line.startswith("pattern") and "sim/v1" in line for line in acl)
