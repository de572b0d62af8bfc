"""``telematics sim``: run the TCU emulator alone against a given broker and backend."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Final

import httpx
import typer

from cli.api_client import TokenOpt, api_base, unreachable
from cli.certificates import (
    CaFileOpt,
    CertFileOpt,
    CertificateSetupError,
    CertificateSource,
    KeyFileOpt,
    PkiDirOpt,
)
from cli.logs import configure
from cli.output import EXIT_FAILED, bad_input, fail, make_console
from cli.summary import run_and_judge
from cli.token import TokenSetupError, operator_token
from protocols.addresses import mqtt_uses_tls
from vehicle_sim.mqtt_transport import BrokerUnreachableError
from vehicle_sim.scenario import (
    REFUSED_DIR,
    SCENARIO_DIR,
    NegativeScenarioError,
    ScenarioError,
    load,
    parse,
    refusal_of,
)
from vehicle_sim.scenario_schema import SCHEMA_PATH, schema_text

app = typer.Typer(no_args_is_help=True)
# Long enough for a scenario of hours; a token given with --token is used as it is.
SCENARIO_TOKEN_TTL_S: Final = 24 * 3600.0


@app.command("run")
def run(
    scenario: Annotated[str, typer.Option(help="scenario name or YAML path")] = "default",
    mqtt_url: Annotated[str | None, typer.Option(help="default: $TELEMATICS_MQTT_URL")] = None,
    api_url: Annotated[str | None, typer.Option(help="backend HTTP API, for operator "
                                                "actions and expectations; default: "
                                                "$TELEMATICS_API_URL")] = None,
    report_file: Annotated[Path | None, typer.Option("--report")] = None,
    token: TokenOpt = None,
    pki_dir: PkiDirOpt = None,
    ca_file: CaFileOpt = None,
    cert_file: CertFileOpt = None,
    key_file: KeyFileOpt = None,
    debug: bool = False,
) -> None:
    """Drive a scenario's cars against a running backend and check its expectations.

    On an mqtts broker every car presents its own certificate (CN = its VIN): issued on
    the fly by the device CA under ``--pki-dir``, or pre-issued files named with
    ``{identity}`` in ``--cert-file``/``--key-file``."""
    configure(debug=debug)
    console = make_console(log_path=False)
    mqtt = mqtt_url or os.environ.get("TELEMATICS_MQTT_URL", "mqtt://127.0.0.1:1883")
    api = api_base(api_url)  # like every command: option, environment, a running up
    try:
        plan = load(scenario)
        identities = CertificateSource.from_options(
            pki_dir=pki_dir, ca_file=ca_file, cert_file=cert_file,
            key_file=key_file).device_identities(mqtt)
    except (ScenarioError, CertificateSetupError) as exc:
        bad_input(str(exc))
    try:
        api_token = operator_token(token, ttl_s=SCENARIO_TOKEN_TTL_S)
    except TokenSetupError as exc:
        fail(str(exc))
    if api_token is None:
        fail("no token for the API: pass --token or set $TELEMATICS_TOKEN, or "
             "$TELEMATICS_SIGNING_KEY to sign one")

    async def main() -> bool:
        assert api_token is not None
        # A secure broker keeps nothing retained: the runner re-announces its clock.
        return await run_and_judge(plan, mqtt_url=mqtt, api_url=api, api_token=api_token,
                                   console=console, report_file=report_file,
                                   identities=identities, retain_clock=not mqtt_uses_tls(mqtt))

    try:
        passed = asyncio.run(main())
    except BrokerUnreachableError as exc:
        fail(str(exc))
    except httpx.TransportError as exc:
        fail(unreachable(api, exc))
    if not passed:
        raise typer.Exit(EXIT_FAILED)


def _verdict(path: Path) -> tuple[bool, str]:
    """Whether ``path`` is what it claims: runnable, or refused as its marker says."""
    try:
        text = path.read_text(encoding="utf-8")
        try:
            scenario = parse(text, source=str(path))
        except NegativeScenarioError:
            return True, f"refused as marked: {refusal_of(text, source=str(path))}"
    except (ScenarioError, OSError) as exc:
        return False, str(exc)
    return True, f"{path}: {len(scenario.vehicles)} vehicles, {len(scenario.events)} events"


@app.command("check")
def check(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="scenario files; default: every shipped one, negative ones included")] = None,
) -> None:
    """Validate scenario files without running them: a runnable one must load, a negative
    one (a top-level ``refused: <part of the error>``) must be refused with that error."""
    console = make_console(log_path=False)
    files = paths or sorted([*SCENARIO_DIR.glob("*.yaml"), *REFUSED_DIR.glob("*.yaml")])
    failed = 0
    for path in files:
        ok, said = _verdict(path)
        failed += not ok
        console.print(f"{'[green]ok[/green]' if ok else '[red]FAIL[/red]'} {said}",
                      markup=True, highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("schema")
def schema(
    write: Annotated[bool, typer.Option(help=f"write it to {SCHEMA_PATH.parent.name}/"
                                        f"{SCHEMA_PATH.name} instead of printing it")] = False,
) -> None:
    """The JSON Schema of scenario files, generated from their models (editors validate
    a file with it; ``--write`` regenerates the shipped one)."""
    if write:
        SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
        typer.echo(f"wrote {SCHEMA_PATH}")
    else:
        typer.echo(schema_text(), nl=False)
