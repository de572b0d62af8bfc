"""Backend settings, read from the environment once in ``main()`` and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocols.addresses import BACKEND_IDENTITY_PREFIX, MqttTls, mqtt_uses_tls


class BackendSettings(BaseSettings):
    """Where the backend finds its broker and Redis, and how its lanes are set up.

    The PSAP domain stands for the public authority's systems, which the OEM side must
    not read or write beyond the relay's hand-off. It lives in database ``psap_db`` of its
    own Redis (``psap_redis_url``, as the ``psap`` user: the PSAP desks and the API's PSAP
    routes), which the emergency lane and the call centre's hand-over reach as the
    ``relay`` user (``psap_relay_redis_url``), allowed only to append to the intake
    streams. Left empty, the PSAP URLs fall back to ``redis_url``: one Redis for both
    domains, the weak mode of a development machine, where every OEM role can read the
    PSAP data. The URLs may carry ``USER:PASSWORD@``, so they are kept out of ``repr``.
    """

    model_config = SettingsConfigDict(env_prefix="TELEMATICS_", extra="ignore")

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    # For an ``mqtts://`` broker: the CA that signed the broker, and this process's
    # certificate and key (PEM). ``{identity}`` in the two paths is replaced by the role's
    # identity (``backend-emergency``, ...), so one environment serves every role with
    # its own certificate; a process with one certificate names it plainly.
    mqtt_ca_file: Path | None = None
    mqtt_cert_file: str | None = None
    mqtt_key_file: str | None = None
    redis_url: str = Field(default="redis://127.0.0.1:6379", repr=False)
    psap_redis_url: str = Field(default="", repr=False)
    psap_relay_redis_url: str = Field(default="", repr=False)
    oem_db: int = 0
    psap_db: int = 1
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    worker_id: str = "1"
    session_expiry_s: int = Field(default=3600, ge=0)
    dedup_ttl_s: int = Field(default=24 * 3600, ge=1)
    # MQTT v5 Receive Maximum of the emergency lane: the broker keeps at most this many
    # unacknowledged eCalls in flight to a worker and queues the rest for it (back-pressure
    # without loss), so the worker's in-process backlog is bounded.
    emergency_inflight_max: int = Field(default=1000, ge=2, le=65535)
    # The same bound for the services lane, whose handlers each make several Redis calls.
    services_inflight_max: int = Field(default=64, ge=2, le=65535)
    # Who may call the HTTP API: OAuth 2 bearer tokens (JWT, ES256 or RS256) from this
    # issuer for this audience, checked with one of three key sources (``backend.api.tokens``):
    # a PEM public key (the local key pair ``telematics up`` creates), a JWKS file, or an
    # OpenID Connect provider's JWKS URL. None set: every protected route answers 401.
    # Strings, not Optional paths, so the supervisor passes them to its roles as they are.
    auth_issuer: str = "telematics-local"
    auth_audience: str = "telematics-api"
    auth_public_key_file: str = ""
    auth_jwks_file: str = ""
    auth_jwks_url: str = ""
    auth_leeway_s: float = Field(default=30.0, ge=0.0, le=300.0)

    # Scenario mode: follow the virtual clock a scenario runner announces on the clock
    # topic (``telematics up`` turns it on). Off by default: a deployed backend keeps its
    # own clock, and no client can move it by publishing a time 400 days ahead.
    follow_scenario_clock: bool = False

    # Prometheus metrics (``backend.runtime.metrics_endpoint``): each role serves
    # ``/metrics`` on ``metrics_host`` at this port plus its place in the role list
    # (emergency, desks, services, bulk, api); 0 serves none.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65530)
    # The roles' log: plain text lines, or JSON lines for a log shipper
    # (``backend.infra.log_lines``).
    log_format: Literal["text", "json"] = "text"

    @model_validator(mode="after")
    def _tls_files_for_mqtts(self) -> BackendSettings:
        """A TLS broker without the files fails at start, not at each role's connect."""
        if mqtt_uses_tls(self.mqtt_url) and (
                self.mqtt_ca_file is None or not self.mqtt_cert_file or not self.mqtt_key_file):
            raise ValueError(f"{self.mqtt_url} needs TELEMATICS_MQTT_CA_FILE, "
                             "TELEMATICS_MQTT_CERT_FILE and TELEMATICS_MQTT_KEY_FILE")
        return self

    @property
    def psap_url(self) -> str:
        """The PSAP domain's Redis for its desks and the API (``redis_url`` in weak mode)."""
        return self.psap_redis_url or self.redis_url

    @property
    def psap_relay_url(self) -> str:
        """The PSAP domain's Redis for the relay's hand-off only."""
        return self.psap_relay_redis_url or self.psap_url

    def mqtt_tls(self, role: str) -> MqttTls | None:
        """The certificate ``role`` presents to a TLS broker; ``None`` for plaintext."""
        if not mqtt_uses_tls(self.mqtt_url):
            return None
        assert self.mqtt_ca_file and self.mqtt_cert_file and self.mqtt_key_file  # validated
        identity = BACKEND_IDENTITY_PREFIX + role
        return MqttTls(ca_file=self.mqtt_ca_file,
                       cert_file=Path(self.mqtt_cert_file.replace("{identity}", identity)),
                       key_file=Path(self.mqtt_key_file.replace("{identity}", identity)))
