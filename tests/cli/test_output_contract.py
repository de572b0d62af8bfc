"""The CLI's output contract (cli/output.py, README "Exit status and output"): ``--json``
prints exactly one compact JSON document on stdout, messages go to stderr, the exit
status is 0 ok / 1 failed check, refusal or nothing found / 2 bad input, and piped tables
do not wrap."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from cli import api_client
from cli.local_services import free_port
from cli.main import app
from cli.output import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    PIPE_WIDTH,
    compact_json,
    make_console,
)
from cli.wire_examples import EXAMPLES

runner = CliRunner()
API = ["--api-url", "http://api.test", "--token", "t"]
LEGAL = next(e for e in EXAMPLES if e.name == "ecall_legal")
ANNEX_A3 = "0324101A01C614A2873C52ABA870010010089AF166285C59A4C86408FE29C16C01054010F010"
GOLDENS = Path(__file__).parents[2] / "docs" / "wire-examples"
CAMPAIGN: dict[str, Any] = {"campaign_id": "c-1", "version": "25-03.2",
                            "size_bytes": 4_000_000_000, "critical": False,
                            "status": "running", "paused_reason": None,
                            "current_group": "pilot", "vehicles": 2, "counts": {},
                            "groups": [], "reasons": {}}
LISTED = {"count": 1, "data": [{"campaign_id": "c-1"}]}
REPORT = {"at": 0.0, "overdue": 0, "deleted": 0, "never_stored": [], "services": []}
# What the fake API answers, by method and path; anything else is a 404.
ANSWERS: dict[tuple[str, str], object] = {
    ("GET", "/budgets"): {"budgets": [], "fleet": {"vehicles": 0, "services": []}},
    ("GET", "/ota/campaigns"): LISTED,
    ("POST", "/ota/campaigns"): CAMPAIGN,
    ("GET", "/ota/campaigns/c-1"): CAMPAIGN,
    ("GET", "/ota/campaigns/c-1/vehicles"): LISTED,
    **{("POST", f"/ota/campaigns/c-1/{action}"): CAMPAIGN
       for action in ("start", "pause", "resume", "cancel")},
    ("GET", "/retention/report"): REPORT,
    ("GET", "/retention/audit"): {"count": 0, "data": []},
    ("DELETE", "/vehicles/WMW21DH0X0T123451/data"): {"vin": "WMW21DH0X0T123451",
                                                     "erased": 2, "refused": {}},
}
# Every command with --json, as run here against the fake API or on local input.
JSON_RUNS: dict[str, list[str]] = {
    "budgets": ["budgets", "--json", *API],
    "ota create": ["ota", "create", "--id", "c-1", "--version", "25-03.2", "--size", "4GB",
                   "--groups", "pilot:100%", "--json", *API],
    "ota list": ["ota", "list", "--json", *API],
    "ota progress": ["ota", "progress", "c-1", "--json", *API],
    "ota vehicles": ["ota", "vehicles", "c-1", "--json", *API],
    **{f"ota {action}": ["ota", action, "c-1", "--json", *API]
       for action in ("start", "pause", "resume", "cancel")},
    "retention report": ["retention", "report", "--check", "--json", *API],
    "retention audit": ["retention", "audit", "--json", *API],
    "retention erase": ["retention", "erase", "WMW21DH0X0T123451", "--json", *API],
    "msd decode": ["msd", "decode", ANNEX_A3, "--json"],
    "wire decode": ["wire", "decode", str(GOLDENS / "ecall_legal.hex"), "--json"],
}
# Commands with --json that need a whole stack (broker, Redis, backend) to answer; their
# broker-marked tests read the JSON (tests/chaos/test_chaos_e2e.py for chaos).
NEEDS_A_STACK = {"chaos", "bench ecall"}
# The benchmarks draw their table on stderr when --json asks for the figures alone.
TABLE_ON_STDERR = {"bench sim": ["bench", "sim", "--count", "5", "--traced", "2", "--json"],
                   "bench codec": ["bench", "codec", "--inputs", "3", "--seconds", "0.01",
                                   "--json"]}


class FakeApi:
    """Answers from ``ANSWERS``; ``override`` replaces one answer with a status and body."""

    def __init__(self) -> None:
        self.override: dict[tuple[str, str], tuple[int, object]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path)
        if key in self.override:
            status, body = self.override[key]
            return httpx.Response(status, json=body)
        if key in ANSWERS:
            return httpx.Response(200, json=ANSWERS[key])
        return httpx.Response(404, json={"message": f"no {key}"})


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    monkeypatch.setattr(api_client, "TRANSPORT", httpx.MockTransport(fake))
    return fake


def _commands(group: TyperGroup, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, TyperGroup):
            yield from _commands(command, f"{path} ")
        else:
            yield path, command


def _with_json() -> set[str]:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return {path for path, command in _commands(root)
            if any("--json" in param.opts for param in command.params)}


def _one_compact_document(stdout: str) -> object:
    """The document, after checking stdout is that document on one line and nothing else."""
    assert stdout.endswith("\n") and stdout.count("\n") == 1, stdout
    document = json.loads(stdout)
    assert stdout == compact_json(document) + "\n"
    return document


def test_output_every_json_command_is_run_here_or_said_why_not() -> None:
    """A new --json command fails this until it is added to a table above."""
    assert _with_json() == set(JSON_RUNS) | NEEDS_A_STACK | set(TABLE_ON_STDERR)


@pytest.mark.parametrize("command", sorted(JSON_RUNS))
def test_output_json_is_one_compact_document_on_stdout(api: FakeApi, command: str) -> None:
    result = runner.invoke(app, JSON_RUNS[command])
    assert result.exit_code == EXIT_OK, result.output
    _one_compact_document(result.stdout)


@pytest.mark.parametrize("command", sorted(TABLE_ON_STDERR))
def test_output_bench_json_is_one_compact_document(command: str) -> None:
    result = runner.invoke(app, TABLE_ON_STDERR[command])
    assert result.exit_code == EXIT_OK, result.output
    _one_compact_document(result.stdout)


def test_output_json_with_an_api_error_prints_nothing_on_stdout(api: FakeApi) -> None:
    api.override[("GET", "/ota/campaigns/c-1")] = (404, {"message": "no campaign c-1"})
    result = runner.invoke(app, JSON_RUNS["ota progress"])
    assert result.exit_code == EXIT_FAILED
    assert result.stdout == ""
    assert result.stderr == "error: HTTP 404: no campaign c-1\n"


@pytest.mark.parametrize("argv", [
    JSON_RUNS["ota progress"],                       # an answer
    JSON_RUNS["retention report"],                   # a clean report under --check
    ["wire", "check", str(GOLDENS / "ecall_legal.hex"),
     "--topic", LEGAL.topic],
])
def test_output_exit_0_when_all_went_well(api: FakeApi, argv: list[str]) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == EXIT_OK, result.output


def test_output_exit_1_on_a_refusal_or_a_failed_check(api: FakeApi) -> None:
    api.override[("POST", "/ota/campaigns/c-1/start")] = (
        409, {"message": "campaign c-1 is running", "field": "status", "rule": "planned"})
    refused = runner.invoke(app, ["ota", "start", "c-1", *API])
    assert (refused.exit_code, refused.stdout) == (EXIT_FAILED, "")
    assert refused.stderr.startswith("error: HTTP 409: campaign c-1 is running")
    api.override[("GET", "/retention/report")] = (200, {**REPORT, "overdue": 3})
    overdue = runner.invoke(app, ["retention", "report", "--check", "--json", *API])
    assert overdue.exit_code == EXIT_FAILED
    assert _one_compact_document(overdue.stdout) == {**REPORT, "overdue": 3}
    other_car = LEGAL.topic.replace(LEGAL.message.vin, "WMW21DH0X0T999999")
    wrong_car = runner.invoke(app, ["wire", "check", str(GOLDENS / "ecall_legal.hex"),
                                    "--topic", other_car])
    assert wrong_car.exit_code == EXIT_FAILED
    assert wrong_car.stdout.startswith("refused: field vin")


def test_output_exit_1_when_the_api_cannot_be_reached() -> None:
    result = runner.invoke(app, ["budgets", "--api-url", "http://127.0.0.1:9", "--token", "t"])
    assert (result.exit_code, result.stdout) == (EXIT_FAILED, "")
    [line] = result.stderr.splitlines()
    assert line.startswith("error: cannot reach the backend API at http://127.0.0.1:9")


@pytest.mark.parametrize(("argv", "says"), [
    (["ota", "create", "--id", "c", "--version", "1", "--size", "4 GiB", "--groups", "a:1",
      *API], "error: --size"),
    (["msd", "decode", "zz"], "error: hex"),
    (["up", "--scenario", "no_such_scenario"], "error: no scenario 'no_such_scenario'"),
    (["sim", "run", "--scenario", "no_such_scenario"], "error: no scenario"),
    (["token", "--role", "nobody"], "error: "),
    (["budgets", "--no-such-option"], "No such option"),
])
def test_output_exit_2_on_bad_input(api: FakeApi, argv: list[str], says: str) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert says in result.stderr


def test_output_help_ends_with_the_exit_statuses() -> None:
    for argv in ([], ["ota"], ["ota", "create"], ["budgets"]):
        result = runner.invoke(app, [*argv, "--help"], terminal_width=200)
        assert "Exit status: 0 ok; 1 a check failed" in " ".join(result.stdout.split())


def test_output_piped_tables_do_not_wrap(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row longer than 140 columns stays one line when stdout is not a terminal."""
    monkeypatch.delenv("COLUMNS", raising=False)
    vin = "WMW21DH0X0T123451"
    api.override[("GET", "/ota/campaigns/c-1/vehicles")] = (200, {"count": 1, "data": [
        {"vin": vin, "group": "pilot-group-with-a-long-name", "status": "failed",
         "reason": "install_failed_because_the_battery_was_low_at_the_start_" + "x" * 60,
         "updated_at": 0.0}]})
    result = runner.invoke(app, ["ota", "vehicles", "c-1", *API])
    assert result.exit_code == EXIT_OK, result.output
    [row] = [line for line in result.stdout.splitlines() if vin in line]
    assert "battery_was_low_at_the_start_" + "x" * 60 in row
    assert 140 < len(row) <= PIPE_WIDTH  # wider than any width used before


def test_output_a_campaign_that_targets_no_car_warns_and_exits_1(api: FakeApi) -> None:
    """It is stored (the answer is printed) but offers nothing: said, and exit 1."""
    api.override[("POST", "/ota/campaigns")] = (201, {**CAMPAIGN, "vehicles": 0})
    result = runner.invoke(app, JSON_RUNS["ota create"])
    assert result.exit_code == EXIT_FAILED
    assert _one_compact_document(result.stdout) == {**CAMPAIGN, "vehicles": 0}
    assert result.stderr == ("warning: campaign c-1 targets no car: no registered vehicle "
                             "matches its target; it is stored (running) and offers "
                             "nothing\n")


@pytest.mark.parametrize(("refused", "says"), [
    ({}, "warning: nothing erased: no record of WMW21DH0X0T123451 (an unknown VIN, or "
         "nothing stored)"),
    ({"ecall_legal": "kept 13 months"}, "warning: nothing erased for WMW21DH0X0T123451: only "
                                        "records the documents keep"),
])
def test_output_an_erasure_that_erases_nothing_warns_and_exits_1(
        api: FakeApi, refused: dict[str, str], says: str) -> None:
    path = ("DELETE", "/vehicles/WMW21DH0X0T123451/data")
    api.override[path] = (200, {"vin": "WMW21DH0X0T123451", "erased": 0, "refused": refused})
    result = runner.invoke(app, ["retention", "erase", "WMW21DH0X0T123451", *API])
    assert result.exit_code == EXIT_FAILED
    assert result.stdout.startswith("erased 0 records of WMW21DH0X0T123451")
    assert result.stderr == says + "\n"


@pytest.mark.parametrize(("argv", "path", "says"), [
    (["ota", "list", "--status", "paused"], "/ota/campaigns", "no campaign is paused"),
    (["ota", "vehicles", "c-1", "--status", "failed", "--group", "pilot"],
     "/ota/campaigns/c-1/vehicles", "no car of campaign c-1 has status failed and group pilot"),
])
def test_output_a_filter_that_matches_nothing_warns_and_exits_1(
        api: FakeApi, argv: list[str], path: str, says: str) -> None:
    api.override[("GET", path)] = (200, {"count": 0, "data": []})
    result = runner.invoke(app, [*argv, *API])
    assert result.exit_code == EXIT_FAILED
    assert result.stderr == f"warning: {says}\n"
    unfiltered = runner.invoke(app, [*argv[:argv.index("--status")], *API])
    assert unfiltered.exit_code == EXIT_OK  # an empty list is an answer like any other


def test_output_columns_set_by_the_user_are_the_width_asked_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert make_console().width == 100
    monkeypatch.delenv("COLUMNS")
    assert make_console().width == PIPE_WIDTH  # pytest's stdout is not a terminal


def test_output_piped_lines_carry_no_padding(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """rich pads a logged line to the console's width; a pipe gets the line without it."""
    monkeypatch.delenv("COLUMNS", raising=False)
    console = make_console(log_path=False)
    console.log("car se-01 sent its eCall")
    console.print("done")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("car se-01 sent its eCall") and lines[1] == "done"


def test_output_sim_run_names_an_unreachable_broker_in_one_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a 79-line traceback of the socket layer: one line with the broker's URL."""
    closed = f"mqtt://127.0.0.1:{free_port()}"
    monkeypatch.setenv("TELEMATICS_TOKEN", "any")
    result = runner.invoke(app, ["sim", "run", "--mqtt-url", closed, *API])
    assert result.exit_code == EXIT_FAILED
    assert result.stderr.startswith(f"error: cannot reach the broker at {closed} (")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
