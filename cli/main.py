"""The ``telematics`` command: one module per command group, thin over the packages."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from cli import backend as backend_cmd
from cli import bench as bench_cmd
from cli import budgets as budgets_cmd
from cli import chaos as chaos_cmd
from cli import load as load_cmd
from cli import msd as msd_cmd
from cli import ota as ota_cmd
from cli import pki_init as pki_cmd
from cli import redis_init as redis_users_cmd
from cli import retention as retention_cmd
from cli import sim as sim_cmd
from cli import token as token_cmd
from cli import up as up_cmd
from cli import wire as wire_cmd
from cli.output import EXIT_CODES_HELP

app = typer.Typer(
    name="telematics",
    help="Connected-car telematics platform: TCU emulator, eCall backend, desks, scenarios.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    epilog=EXIT_CODES_HELP,
)
DISTRIBUTION = "telematics-platform"


def installed_version() -> str:
    """The installed distribution's version: what a bug report should quote."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed as a distribution)"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"telematics {installed_version()}")
        raise typer.Exit()


@app.callback()
def main(
    _version: bool = typer.Option(False, "--version", callback=_print_version,
                                  is_eager=True, help="print the version and exit"),
) -> None:
    """Connected-car telematics platform: TCU emulator, eCall backend, desks, scenarios."""


app.command("up")(up_cmd.up)
app.add_typer(msd_cmd.app, name="msd", help="Decode and encode EN 15722 MSDs.")
app.add_typer(sim_cmd.app, name="sim", help="Run the TCU emulator alone against a backend.")
app.add_typer(backend_cmd.app, name="backend", help="Run the backend alone.")
app.add_typer(bench_cmd.app, name="bench", help="Benchmarks that print figures.")
app.add_typer(ota_cmd.app, name="ota", help="Remote software upgrade campaigns.")
app.command("budgets")(budgets_cmd.budgets)
app.command("chaos")(chaos_cmd.chaos)
app.command("load")(load_cmd.load_cmd)
app.command("token")(token_cmd.token)
app.add_typer(redis_users_cmd.app, name="redis-users",
              help="The Redis users and passwords of services that start apart (compose).")
app.add_typer(pki_cmd.app, name="pki",
              help="Certificate authorities and certificates for local and compose runs.")
app.add_typer(retention_cmd.app, name="retention",
              help="Retention report, deletion audit, erasure on request.")
app.add_typer(wire_cmd.app, name="wire", help="Decode and check payloads of the wire contract.")


def with_exit_codes(typer_app: typer.Typer) -> None:
    """End every command's and group's --help with the exit statuses and output rules
    (``cli.output``), so a script's author finds them where they look first."""
    for command in typer_app.registered_commands:
        command.epilog = EXIT_CODES_HELP
    for group in typer_app.registered_groups:
        group.epilog = EXIT_CODES_HELP
        if group.typer_instance is not None:
            with_exit_codes(group.typer_instance)


with_exit_codes(app)

if __name__ == "__main__":
    app()
