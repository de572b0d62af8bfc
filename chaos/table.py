"""The chaos report as a terminal table: one row per fault, the verdict under it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from chaos.tally import FaultResult

COLUMNS = ("fault", "sent", "acked", "retransmitted", "delivered", "lost", "duplicated",
           "max delay ms", "red seen", "ready again s")


def _seconds(value: float | None, *, never: str) -> str:
    return never if value is None else f"{value:.1f}"


def results_table(results: Sequence[FaultResult]) -> Table:
    """Lost and duplicated in red when not zero; a skipped fault shows its reason."""
    table = Table(title="eCalls under faults (publish → PSAP desk)")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "fault" else "right")
    for result in results:
        t, r = result.tally, result.readiness
        if t is None or r is None:
            table.add_row(result.fault, f"[yellow]skipped: {result.skipped}[/yellow]",
                          *[""] * (len(COLUMNS) - 2))
            continue
        red = f"yes, after {r.red_after_s:.1f} s" if r.red_seen else "no"
        table.add_row(
            result.fault + (" (not injected)" if result.skipped else ""),
            str(t.sent), str(t.acked), str(t.retransmitted), str(t.delivered),
            f"[red]{t.lost}[/red]" if t.lost else "0",
            f"[red]{t.duplicated}[/red]" if t.duplicated else "0",
            "-" if t.max_delay_ms is None else f"{t.max_delay_ms:.1f}",
            red, _seconds(r.ready_again_s, never="not yet"))
    return table
