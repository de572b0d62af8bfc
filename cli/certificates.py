"""Where ``sim run`` and ``backend run`` find the certificates they present to an mqtts broker.

Two forms, the same for both commands:

- ``--pki-dir DIR`` (``$TELEMATICS_PKI_DIR``): a local run's CAs (``DIR/devices``,
  ``DIR/backend``, as ``telematics pki init`` or ``telematics up`` make them). Each car's
  certificate (CN = its VIN) is issued from the device CA the first time the car connects,
  each backend role's from the backend CA; for local runs and compose only.
- ``--ca-file``, ``--cert-file``, ``--key-file`` (``$TELEMATICS_MQTT_CA_FILE``,
  ``_CERT_FILE``, ``_KEY_FILE``): pre-issued files, as a deployment has them. ``{identity}``
  in the two paths is replaced by the client's identity (a car's VIN, ``scenario-runner``,
  ``fleet-gateway``, ``backend-emergency``, ...), so ``/etc/telematics/{identity}.crt``
  names a directory of per-identity certificates.

Errors: ``CertificateSetupError`` names what is missing or contradictory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

import typer

from cli.local_services import PKI_DIR_ENV
from pki.authority import CertificateAuthority
from pki.errors import PkiError
from pki.identities import BACKEND_IDENTITIES
from protocols.addresses import MqttTls, mqtt_uses_tls
from vehicle_sim.mqtt_transport import Identities
from vehicle_sim.runner import no_identity

CA_FILE_ENV: Final = "TELEMATICS_MQTT_CA_FILE"
CERT_FILE_ENV: Final = "TELEMATICS_MQTT_CERT_FILE"
KEY_FILE_ENV: Final = "TELEMATICS_MQTT_KEY_FILE"
IDENTITY: Final = "{identity}"

PkiDirOpt = Annotated[Path | None, typer.Option(
    "--pki-dir", help="a local run's CA directory (devices/, backend/) that issues each "
    f"client its certificate on the fly; default: ${PKI_DIR_ENV}")]
CaFileOpt = Annotated[Path | None, typer.Option(
    "--ca-file", help=f"the broker's CA (PEM); default: ${CA_FILE_ENV}")]
CertFileOpt = Annotated[str | None, typer.Option(
    "--cert-file", help="client certificate (PEM); {identity} is replaced by the "
    f"client's identity (a VIN, backend-ROLE, ...); default: ${CERT_FILE_ENV}")]
KeyFileOpt = Annotated[str | None, typer.Option(
    "--key-file", help=f"its private key, with {{identity}} likewise; default: ${KEY_FILE_ENV}")]


class CertificateSetupError(ValueError):
    """The broker wants certificates and the options do not say where they are, or say
    it twice."""


@dataclass(frozen=True, slots=True)
class CertificateSource:
    """What the options and the environment say; ``from_options`` fills the gaps."""

    pki_dir: Path | None = None
    ca_file: Path | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @classmethod
    def from_options(cls, *, pki_dir: Path | None, ca_file: Path | None,
                     cert_file: str | None, key_file: str | None,
                     environ: Mapping[str, str] = os.environ) -> CertificateSource:
        """Options win over ``$TELEMATICS_PKI_DIR`` and ``$TELEMATICS_MQTT_*_FILE``."""
        files_given = any((ca_file, cert_file, key_file))
        env_dir = environ.get(PKI_DIR_ENV)
        return cls(
            pki_dir=pki_dir or (Path(env_dir) if env_dir and not files_given else None),
            ca_file=ca_file or _env_path(environ, CA_FILE_ENV),
            cert_file=cert_file or environ.get(CERT_FILE_ENV) or None,
            key_file=key_file or environ.get(KEY_FILE_ENV) or None)

    def _files(self) -> tuple[Path, str, str] | None:
        given = (self.ca_file, self.cert_file, self.key_file)
        if not any(given):
            return None
        if self.ca_file is None or not self.cert_file or not self.key_file:
            raise CertificateSetupError(
                "--ca-file, --cert-file and --key-file go together "
                f"(${CA_FILE_ENV}, ${CERT_FILE_ENV}, ${KEY_FILE_ENV})")
        return self.ca_file, self.cert_file, self.key_file

    def _checked(self, mqtt_url: str) -> tuple[Path, str, str] | None:
        files = self._files()
        if self.pki_dir is not None and files is not None:
            raise CertificateSetupError("give either --pki-dir or --ca-file/--cert-file/"
                                        "--key-file, not both")
        if not mqtt_uses_tls(mqtt_url):
            if self.pki_dir is not None or files is not None:
                raise CertificateSetupError(f"{mqtt_url} is plaintext, but certificates "
                                            "were given; use mqtts://")
            return None
        if self.pki_dir is None and files is None:
            raise CertificateSetupError(
                f"{mqtt_url} needs client certificates: --pki-dir DIR (${PKI_DIR_ENV}) for "
                "a local CA, or --ca-file, --cert-file and --key-file")
        return files

    def device_identities(self, mqtt_url: str) -> Identities:
        """Each car's (and the scenario runner's, the fleet gateway's) certificate."""
        files = self._checked(mqtt_url)
        if files is None and self.pki_dir is None:
            return no_identity
        if files is None:
            assert self.pki_dir is not None
            authority = _authority(self.pki_dir / "devices")
            return authority.issue
        ca_file, cert_file, key_file = files
        if IDENTITY not in cert_file or IDENTITY not in key_file:
            raise CertificateSetupError(
                f"every car presents its own certificate: --cert-file and --key-file need "
                f"{IDENTITY} in their paths (e.g. /etc/telematics/cars/{IDENTITY}.crt)")
        template = MqttTls(ca_file=ca_file, cert_file=Path(cert_file),
                           key_file=Path(key_file))
        return lambda name: fill(template, name)

    def backend_files(self, mqtt_url: str) -> MqttTls | None:
        """The files every backend role finds its certificate by (``{identity}``), every
        role's certificate issued first with ``--pki-dir``; ``None`` for plaintext."""
        files = self._checked(mqtt_url)
        if files is None and self.pki_dir is None:
            return None
        if files is None:
            assert self.pki_dir is not None
            return issue_backend(_authority(self.pki_dir / "backend"))
        ca_file, cert_file, key_file = files
        return MqttTls(ca_file=ca_file, cert_file=Path(cert_file), key_file=Path(key_file))


def fill(template: MqttTls, identity: str) -> MqttTls:
    """``template`` with ``{identity}`` in its paths replaced by ``identity``."""
    return MqttTls(ca_file=template.ca_file,
                   cert_file=Path(str(template.cert_file).replace(IDENTITY, identity)),
                   key_file=Path(str(template.key_file).replace(IDENTITY, identity)))


def issue_backend(authority: CertificateAuthority) -> MqttTls:
    """Every backend role's certificate issued by ``authority``; where they are, with
    ``{identity}`` for the role (``BackendSettings.mqtt_cert_file``)."""
    authority.issue_many(BACKEND_IDENTITIES)
    return authority.path_template()


def _authority(directory: Path) -> CertificateAuthority:
    """The CA in ``directory``, which must exist: a CA made here would be one the broker
    does not trust."""
    if not (directory / "ca.crt").exists():
        raise CertificateSetupError(f"no CA in {directory}; create one with "
                                    f"`telematics pki init --dir {directory.parent}`")
    try:
        return CertificateAuthority(directory)
    except PkiError as exc:
        raise CertificateSetupError(str(exc)) from exc


def _env_path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name)
    return Path(value) if value else None
