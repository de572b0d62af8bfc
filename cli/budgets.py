"""``telematics budgets``: the catalogue's data-volume budgets and usage against them.

Thin over the backend API (``GET /budgets``, ``GET /budgets/{vin}``): the numbers are
judged where the meter runs, at the backend's (possibly virtual) time. Rendering is a
pure function of the API's JSON so it can be checked without a running backend; bytes
are shown in the catalogue's own units (1 KB = 1,000 B, CONV-1) by ``protocols.units``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.api_client import TokenOpt, call
from cli.output import emit_json, make_console
from protocols.units import format_size


def _bound(row: dict[str, Any]) -> str:
    sign = "<" if row.get("exclusive") else "≤"
    approx = "~" if row.get("approx") else ""
    parts = []
    if row.get("per_message_bytes") is not None:
        parts.append(f"{approx}{sign} {format_size(row['per_message_bytes'])}/msg")
    if row.get("period_bytes") is not None and row.get("per") not in ("message", "none"):
        parts.append(f"{approx}{sign} {format_size(row['period_bytes'])}/{row['per']}")
    return ", ".join(parts) or "-"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items())) or "-"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def usage_table(title: str, services: list[dict[str, Any]], *, fleet: bool = False) -> Table:
    """A row per service: bound, this period's bytes and messages, share, totals, counts."""
    table = Table(title=title)
    columns = ["service", "budget", "period bytes", "msgs", "share", "previous", "total",
               "rejected", "flagged"]
    if fleet:
        columns.insert(1, "vehicles")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in services:
        name = row["key"] + (" (safety)" if row.get("safety") else "")
        cells = [name, _bound(row), format_size(row["used_bytes"]), str(row["used_msgs"]),
                 _share(row.get("share_used")), format_size(row["previous_bytes"]),
                 format_size(row["total_bytes"]), _counts(row.get("rejected", {})),
                 _counts(row.get("flagged", {}))]
        if fleet:
            cells.insert(1, str(row.get("vehicles") or 0))
        table.add_row(*cells)
    return table


def catalogue_table(budgets: list[dict[str, Any]]) -> Table:
    """A row per budgeted catalogue entry with the documents' own wording."""
    table = Table(title="catalogue budgets (docs/requirements.md#plat-r2)")
    for column in ("key", "service", "sub-function", "budget", "safety", "wording"):
        table.add_column(column, overflow="fold")
    for b in budgets:
        table.add_row(b["key"], b["service"], b["sub_function"], _bound(b),
                      "yes" if b["safety"] else "", b["wording"])
    return table


def render(console: Console, data: dict[str, Any]) -> None:
    """Print the API's answer: a vehicle's usage, or the catalogue with the fleet's."""
    if "vin" in data:
        console.print(usage_table(f"budgets of {data['vin']}", data["services"]))
        return
    console.print(catalogue_table(data["budgets"]))
    fleet = data["fleet"]
    console.print(usage_table(f"fleet usage ({fleet['vehicles']} vehicles)",
                              fleet["services"], fleet=True))


def budgets(
    vin: Annotated[str | None, typer.Option(help="one vehicle's usage instead of the "
                                            "catalogue and the fleet")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON")] = False,
    api_url: Annotated[str | None, typer.Option("--api-url", "--api",
                                                help="backend HTTP API; default: "
                                                "$TELEMATICS_API_URL")] = None,
    token: TokenOpt = None,
) -> None:
    """Show the catalogue's data-volume budgets and usage against them."""
    data = call(api_url, "GET", "/budgets" if vin is None else f"/budgets/{vin}",
                token=token, timeout_s=5.0)
    if as_json:
        emit_json(data)
        return
    render(make_console(), data)
