"""``telematics retention``: the retention report, the deletion audit, erasure on request.

Thin over the backend API. The report is judged at the backend's time (the scenario's
virtual time when one runs), so "past its deadline" means what the sweeper means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.api_client import TokenOpt, call
from cli.output import EXIT_FAILED, emit_json, make_console, warn

app = typer.Typer(no_args_is_help=True, add_completion=False)
ApiOpt = Annotated[str | None, typer.Option("--api-url", "--api",
                                            help="backend HTTP API; default: "
                                            "$TELEMATICS_API_URL")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime(
        "%Y-%m-%d %H:%M")


def _period(rule: dict[str, Any], name: str) -> str | None:
    """A window in days, or in calendar months ("mo") where the rule counts months."""
    months, seconds = rule.get(f"{name}_months"), rule.get(f"{name}_s")
    if months is not None:
        return f"{months} mo"
    return None if seconds is None else f"{seconds / 86_400:g} d"


def _window(rule: dict[str, Any]) -> str:
    window, idle = _period(rule, "window"), _period(rule, "idle")
    text = str(rule.get("kind", "?"))
    if window is not None:
        text += f" {window}"
    if idle is not None:
        text += f" (idle {idle})"
    return text


def report_table(data: dict[str, Any]) -> Table:
    """A row per service the backend has stored anything of."""
    table = Table(title=f"retention at {_when(data['at'])} (catalogue v"
                        f"{data['catalogue_version']})")
    for column in ("service", "rule", "held", "open", "oldest", "next deletion", "deleted",
                   "erased", "overdue"):
        table.add_column(column, overflow="fold")
    for row in data["services"]:
        overdue = int(row["overdue"])
        table.add_row(row["service"], _window(row.get("rule_detail", {})), str(row["held"]),
                      str(row.get("pending", "-")), _when(row["oldest_written_at"]),
                      _when(row["next_due"]), str(row["deleted"]), str(row["erased"]),
                      f"[red]{overdue}[/red]" if overdue else "0")
    return table


def verdict(data: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the report is clean: nothing overdue, nothing of a never-stored service."""
    lines, ok = [], True
    if data["overdue"]:
        ok = False
        lines.append(f"{data['overdue']} records are past their deadline")
    for row in data["never_stored"]:
        if row["held"]:
            ok = False
            lines.append(f"{row['service']}: {row['held']} records held, none may be")
        else:
            lines.append(f"{row['service']}: nothing stored ({row['relayed_to_psap']} "
                         "relayed straight to the PSAP)")
    if ok:
        lines.insert(0, f"no record past its deadline; {data['deleted']} deleted on time")
    return ok, lines


def render_report(console: Console, data: dict[str, Any]) -> bool:
    console.print(report_table(data))
    ok, lines = verdict(data)
    for line in lines:
        console.print(("[green]ok[/green] " if ok else "[red]!![/red] ") + line)
    return ok


@app.command("report")
def report(api_url: ApiOpt = None, token: TokenOpt = None, as_json: JsonOpt = False,
           check: Annotated[bool, typer.Option(help="exit 1 unless the report is clean")]
           = False) -> None:
    """Per service: records held, oldest, next deletion, deletions done, overdue."""
    data = call(api_url, "GET", "/retention/report", token=token)
    if as_json:
        emit_json(data)
        ok = verdict(data)[0]
    else:
        ok = render_report(make_console(highlight=False), data)
    if check and not ok:
        raise typer.Exit(EXIT_FAILED)


@app.command("audit")
def audit(count: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
          api_url: ApiOpt = None, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """The latest deletions: which kind of record, which rule, when; never the content."""
    data = call(api_url, "GET", "/retention/audit", params={"count": str(count)}, token=token)
    if as_json:
        emit_json(data)
        return
    table = Table(title=f"last {data['count']} deletions")
    for column in ("deleted at", "service", "record", "rule", "reason", "deadline", "ref"):
        table.add_column(column)
    for row in data["data"]:
        table.add_row(_when(float(row["deleted_at"])), row["service"], row["record_type"],
                      row["rule"], row["reason"], _when(float(row["deadline"]))
                      if row.get("deadline") else "-", row["ref"])
    make_console(highlight=False).print(table)


@app.command("erase")
def erase(vin: Annotated[str, typer.Argument(help="the vehicle whose data is erased")],
          service: Annotated[str | None, typer.Option(help="one catalogue service only")]
          = None, api_url: ApiOpt = None, token: TokenOpt = None,
          as_json: JsonOpt = False) -> None:
    """Erase a vehicle's records on request, where the documents allow it. Exit 1 with a
    warning when nothing was erased: no record of that VIN (an unknown car, or nothing
    stored), or only records the documents keep."""
    params = {"service": service} if service else None
    data = call(api_url, "DELETE", f"/vehicles/{vin}/data", params=params, token=token)
    if as_json:
        emit_json(data)
    else:
        typer.echo(f"erased {data['erased']} records of {vin}")
        for kept, rule in sorted(data["refused"].items()):
            typer.echo(f"kept {kept}: {rule} (not erasable on request)")
    if not data["erased"]:
        of = f" of service {service}" if service else ""
        warn(f"nothing erased for {vin}: only records the documents keep{of}"
             if data["refused"] else
             f"nothing erased: no record{of} of {vin} (an unknown VIN, or nothing stored)")
        raise typer.Exit(EXIT_FAILED)
