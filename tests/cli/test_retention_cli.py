"""``telematics retention``: the verdict on a report, its table, and the error path."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cli.output import EXIT_FAILED
from cli.retention import app, render_report, verdict

T0 = 1_767_225_600.0


def _report(*, overdue: int = 0, legal_held: int = 0) -> dict[str, Any]:
    return {
        "at": T0, "catalogue_version": "2", "overdue": overdue, "deleted": 3,
        "services": [{"service": "hv_warn_call", "held": 1, "pending": 0,
                      "oldest_written_at": T0, "next_due": T0 + 181 * 86_400.0,
                      "deleted": 3, "erased": 0, "overdue": overdue,
                      "rule_detail": {"kind": "fixed_window", "window_months": 6}},
                     {"service": "customer_hotline", "held": 1, "pending": 0,
                      "oldest_written_at": T0, "next_due": T0 + 28 * 86_400.0,
                      "deleted": 0, "erased": 0, "overdue": 0,
                      "rule_detail": {"kind": "fixed_window", "window_s": 28 * 86_400.0}}],
        "never_stored": [{"service": "ecall_legal", "held": legal_held, "relayed_to_psap": 2,
                          "stored_by_oem": bool(legal_held)}],
    }


def test_retention_cli_clean_report_says_so() -> None:
    ok, lines = verdict(_report())
    assert ok
    assert lines[0] == "no record past its deadline; 3 deleted on time"
    assert "ecall_legal: nothing stored (2 relayed straight to the PSAP)" in lines


@pytest.mark.parametrize(("report", "problem"), [
    (_report(overdue=2), "2 records are past their deadline"),
    (_report(legal_held=1), "ecall_legal: 1 records held, none may be"),
])
def test_retention_cli_verdict_names_what_is_wrong(report: dict[str, Any], problem: str) -> None:
    ok, lines = verdict(report)
    assert not ok and problem in lines


def test_retention_cli_table_shows_the_rule_and_the_dates() -> None:
    console = Console(record=True, width=160)
    assert render_report(console, _report())
    text = console.export_text()
    assert "fixed_window 6 mo" in text and "2026-01-01 00:00" in text
    assert "2026-07-01 00:00" in text  # the next deletion, six calendar months on
    assert "fixed_window 28 d" in text and "2026-01-29 00:00" in text


def test_retention_cli_unreachable_api_is_one_line_and_exit_1(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMATICS_API_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["report", "--check"])
    assert result.exit_code == EXIT_FAILED
    assert result.stderr.startswith("error: cannot reach the backend API at http://127.0.0.1:9")
