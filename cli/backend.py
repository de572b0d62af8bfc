"""``telematics backend``: run the backend alone against a given broker and Redis."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from backend.runtime.metrics_endpoint import metrics_urls
from backend.runtime.roles import ROLES, run_role
from backend.runtime.supervisor import Supervisor
from backend.settings import BackendSettings
from cli.certificates import (
    CaFileOpt,
    CertFileOpt,
    CertificateSetupError,
    CertificateSource,
    KeyFileOpt,
    PkiDirOpt,
)
from cli.local_services import MQTT_URL_ENV, redacted
from cli.logs import LogFormatOpt, configure
from cli.stack import local_auth
from cli.token import DEFAULT_RUN_DIR, ensure_key_pair

app = typer.Typer(no_args_is_help=True)

MqttOpt = Annotated[str | None, typer.Option("--mqtt-url", help="default: $TELEMATICS_MQTT_URL")]
RedisOpt = Annotated[str | None,
                     typer.Option("--redis-url", help="default: $TELEMATICS_REDIS_URL")]


def settings_from(mqtt_url: str | None, redis_url: str | None, **extra: object) -> BackendSettings:
    overrides: dict[str, object] = {k: v for k, v in extra.items() if v is not None}
    if mqtt_url:
        overrides["mqtt_url"] = mqtt_url
    if redis_url:
        overrides["redis_url"] = redis_url
    return BackendSettings(**overrides)  # type: ignore[arg-type]


def _psap_where(settings: BackendSettings) -> str:
    if not settings.psap_redis_url:
        return f"in the same Redis, database {settings.psap_db} (weak mode: no separation)"
    return f"Redis {redacted(settings.psap_url)}, database {settings.psap_db}"


@app.command("run")
def run(
    mqtt_url: MqttOpt = None,
    redis_url: RedisOpt = None,
    api_host: Annotated[str | None, typer.Option(help="HTTP API bind address")] = None,
    api_port: Annotated[int | None, typer.Option(help="HTTP API port")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        help="serve each role's Prometheus /metrics from this port on (emergency, desks, "
             "services, bulk, api: this port plus 0..4) on --metrics-host; 0: none "
             "(default: $TELEMATICS_METRICS_PORT, else none)", min=0, max=65530)] = None,
    metrics_host: Annotated[str | None, typer.Option(
        help="where the metrics ports listen (default: $TELEMATICS_METRICS_HOST, else "
             "127.0.0.1)")] = None,
    scenario_clock: Annotated[bool | None, typer.Option(
        "--scenario-clock/--own-clock",
        help="follow the virtual clock a scenario runner announces (for scenario runs; "
             "default: $TELEMATICS_FOLLOW_SCENARIO_CLOCK, else the backend's own clock)")] = None,
    run_dir: Annotated[Path, typer.Option(help="where the local signing key pair is kept "
                                          "when no TELEMATICS_AUTH_* key source is set")]
    = DEFAULT_RUN_DIR,
    pki_dir: PkiDirOpt = None,
    ca_file: CaFileOpt = None,
    cert_file: CertFileOpt = None,
    key_file: KeyFileOpt = None,
    log_format: LogFormatOpt = None,
    debug: bool = False,
) -> None:
    """Every role (emergency lane, desks, bulk lane, HTTP API), one process each.

    On an mqtts broker each role presents its own certificate (``backend-ROLE``): issued
    by the backend CA under ``--pki-dir``, or the files named with ``{identity}``."""
    chosen_format = configure(debug=debug, chosen_format=log_format)
    broker = (mqtt_url or os.environ.get(MQTT_URL_ENV)
              or str(BackendSettings.model_fields["mqtt_url"].default))
    try:
        tls = CertificateSource.from_options(
            pki_dir=pki_dir, ca_file=ca_file, cert_file=cert_file,
            key_file=key_file).backend_files(broker)
    except CertificateSetupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = settings_from(
        mqtt_url, redis_url, api_host=api_host, api_port=api_port, metrics_port=metrics_port,
        metrics_host=metrics_host, log_format=chosen_format,
        follow_scenario_clock=scenario_clock, mqtt_ca_file=tls.ca_file if tls else None,
        mqtt_cert_file=str(tls.cert_file) if tls else None,
        mqtt_key_file=str(tls.key_file) if tls else None)
    if not (settings.auth_public_key_file or settings.auth_jwks_file
            or settings.auth_jwks_url):
        keys = ensure_key_pair(run_dir)
        settings = local_auth(settings, keys)
        typer.echo(f"backend: API tokens signed with {keys.private} "
                   "(`telematics token --role operator`)")

    async def main() -> tuple[str, str] | None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"backend: API on http://{settings.api_host}:{settings.api_port} "
                   f"(OpenAPI at /docs), broker {settings.mqtt_url}, "
                   f"Redis {redacted(settings.redis_url)}, PSAP domain {_psap_where(settings)}")
        if urls := metrics_urls(settings):
            typer.echo("backend: metrics " + ", ".join(f"{role} {url}"
                                                      for role, url in urls.items()))
        supervisor = Supervisor(settings)
        await supervisor.run(stop)
        return supervisor.given_up

    given_up = asyncio.run(main())
    if given_up is not None:
        typer.echo(f"error: {given_up[1]}", err=True)
        raise typer.Exit(1)


@app.command("role")
def role(
    name: Annotated[str, typer.Argument(help="|".join(ROLES))],
    mqtt_url: MqttOpt = None,
    redis_url: RedisOpt = None,
    log_format: LogFormatOpt = None,
    debug: bool = False,
) -> None:
    """One role in this process (to scale a role out, run it more than once)."""
    if name not in ROLES:
        typer.echo(f"error: role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    chosen_format = configure(debug=debug, chosen_format=log_format, role=name)
    run_role(name, settings_from(mqtt_url, redis_url, log_format=chosen_format))

