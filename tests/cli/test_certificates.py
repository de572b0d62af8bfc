"""Where `sim run` and `backend run` find their certificates, and `telematics pki init`."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from cli.certificates import CertificateSetupError, CertificateSource
from cli.main import app
from cli.pki_init import initialise
from pki.identities import BACKEND_IDENTITIES, FLEET_GATEWAY, SCENARIO_RUNNER
from protocols.addresses import MqttTls

VIN = "WMW21DH0X0T100004"
TLS_URL, PLAIN_URL = "mqtts://127.0.0.1:8883", "mqtt://127.0.0.1:1883"


def _cn(cert_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def _source(environ: dict[str, str] | None = None, **options: Any) -> CertificateSource:
    given: dict[str, Any] = {"pki_dir": None, "ca_file": None, "cert_file": None,
                             "key_file": None, **options}
    return CertificateSource.from_options(environ=environ or {}, **given)


def test_certificate_source_pki_dir_issues_each_car_its_vin(tmp_path: Path) -> None:
    """With --pki-dir the device CA issues a car a certificate whose CN is its VIN."""
    initialise(tmp_path)
    tls = _source(pki_dir=tmp_path).device_identities(TLS_URL)(VIN)
    assert isinstance(tls, MqttTls)
    assert _cn(Path(str(tls.cert_file))) == VIN
    assert tls.ca_file == tmp_path / "devices" / "ca.crt"


def test_certificate_source_pki_dir_from_env_gives_every_backend_role_its_own(
        tmp_path: Path) -> None:
    """$TELEMATICS_PKI_DIR gives the backend the template every role's file fills."""
    initialise(tmp_path)
    tls = _source({"TELEMATICS_PKI_DIR": str(tmp_path)}).backend_files(TLS_URL)
    assert tls is not None and "{identity}" in str(tls.cert_file)
    for name in BACKEND_IDENTITIES:
        assert _cn(Path(str(tls.cert_file).replace("{identity}", name))) == name


def test_certificate_source_files_from_env_fill_identity_per_car(tmp_path: Path) -> None:
    """Pre-issued files: {identity} in the paths becomes each car's VIN."""
    environ = {"TELEMATICS_MQTT_CA_FILE": "/certs/ca.crt",
               "TELEMATICS_MQTT_CERT_FILE": "/certs/{identity}.crt",
               "TELEMATICS_MQTT_KEY_FILE": "/certs/{identity}.key"}
    tls = _source(environ).device_identities(TLS_URL)(VIN)
    assert isinstance(tls, MqttTls)
    assert (str(tls.cert_file), str(tls.key_file)) == (
        f"/certs/{VIN}.crt", f"/certs/{VIN}.key")


@pytest.mark.parametrize(("options", "url", "words"), [
    ({}, TLS_URL, "--pki-dir"),
    ({"ca_file": Path("ca.crt")}, TLS_URL, "go together"),
    ({"ca_file": Path("ca.crt"), "cert_file": "car.crt", "key_file": "car.key"}, TLS_URL,
     "{identity}"),
    ({"pki_dir": Path("x"), "ca_file": Path("c"), "cert_file": "a", "key_file": "b"},
     TLS_URL, "not both"),
    ({"pki_dir": Path("x")}, PLAIN_URL, "plaintext"),
])
def test_certificate_source_refuses_what_cannot_work(options: dict[str, object], url: str,
                                                     words: str) -> None:
    """Missing, half-given, shared or needless certificates are refused, saying why."""
    with pytest.raises(CertificateSetupError, match=words.replace("{", r"\{")):
        _source(None, **options).device_identities(url)


def test_certificate_source_refuses_a_pki_dir_without_a_ca(tmp_path: Path) -> None:
    """A CA made on the spot would be one the broker does not trust: refused."""
    with pytest.raises(CertificateSetupError, match="pki init"):
        _source(pki_dir=tmp_path).device_identities(TLS_URL)
    assert not (tmp_path / "devices").exists()


def test_certificate_source_plaintext_needs_no_certificate() -> None:
    """On a plaintext broker nobody presents a certificate."""
    assert _source().device_identities(PLAIN_URL)(VIN) is None
    assert _source().backend_files(PLAIN_URL) is None


def test_pki_init_creates_cas_broker_and_client_certificates_with_private_keys(
        tmp_path: Path) -> None:
    """`telematics pki init` makes both CAs, the broker's certificate for the given host,
    the roles' and the simulator's, the ACL; every key is 0600."""
    done = CliRunner().invoke(app, ["pki", "init", "--dir", str(tmp_path / "pki"),
                                    "--host", "mosquitto"])
    assert done.exit_code == 0, done.output
    pki = tmp_path / "pki"
    server = x509.load_pem_x509_certificate(
        (pki / "backend" / "issued" / "server-broker.crt").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["mosquitto"]
    for name in (SCENARIO_RUNNER, FLEET_GATEWAY):
        assert _cn(pki / "devices" / "issued" / f"{name}.crt") == name
    keys = list(pki.rglob("*.key"))
    assert len(keys) == 2 + 2 + 2 + len(BACKEND_IDENTITIES)  # CAs, servers, device side
    assert all(stat.S_IMODE(key.stat().st_mode) == 0o600 for key in keys)
    assert "user backend-emergency" in (pki / "mosquitto.acl").read_text()
