"""``telematics ota``: reading sizes, durations and groups, and one-line API errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cli import api_client
from cli.api_client import describe_error
from cli.ota import (
    OptionError,
    app,
    build_body,
    parse_groups,
    read_option,
)
from cli.output import EXIT_BAD_INPUT, EXIT_FAILED
from protocols.units import parse_duration, parse_size

runner = CliRunner()
Handler = Callable[[httpx.Request], httpx.Response]


class FakeApi:
    """Answers the CLI's HTTP calls with ``respond`` and records the requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.respond: Handler = lambda _request: httpx.Response(500)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    monkeypatch.setattr(api_client, "TRANSPORT", httpx.MockTransport(fake))
    return fake


def _respond(status: int, body: object) -> Handler:
    return lambda _request: httpx.Response(status, json=body)


PROGRESS: dict[str, Any] = {
    "campaign_id": "c-1", "version": "25-03.2", "size_bytes": 4_000_000_000,
    "critical": False, "status": "paused", "paused_reason": "error_threshold",
    "current_group": "pilot", "vehicles": 2,
    "counts": {"failed": 1, "offered": 1},
    "groups": [{"name": "pilot", "size": 2, "released": True, "complete": False,
                "successes": 0, "failures": 1, "success_threshold": 1.0,
                "error_threshold": 0.5,
                "counts": {"pending": 0, "offered": 1, "downloading": 0,
                           "awaiting_confirmation": 0, "installing": 0, "done": 0,
                           "failed": 1, "refused": 0, "timed_out": 0, "cancelled": 0}}],
    "reasons": {"install_failed": 1},
}


def test_ota_cli_options_read_by_the_shared_grammar() -> None:
    """--size and --timeout are read by ``protocols.units``; its errors name the option."""
    assert read_option("--size", "4.2 GB", parse_size) == 4_200_000_000
    assert read_option("--timeout", "90min", parse_duration) == 5_400.0
    with pytest.raises(OptionError, match=r"^--size: '4 GiB' is not a size"):
        read_option("--size", "4 GiB", parse_size)
    with pytest.raises(OptionError, match=r"^--timeout: '90m' .*write min"):
        read_option("--timeout", "90m", parse_duration)


def test_ota_cli_parse_groups_shares_sizes_and_thresholds() -> None:
    """Shares in %, sizes as counts, s= and e= as fractions or percentages."""
    assert parse_groups("pilot:10%:s=1.0:e=0.5,wave:40%,rest:50%") == [
        {"name": "pilot", "share": 0.1, "success_threshold": 1.0, "error_threshold": 0.5},
        {"name": "wave", "share": 0.4},
        {"name": "rest", "share": 0.5},
    ]
    assert parse_groups("first:25:e=10%, second:100%:s=95%") == [
        {"name": "first", "size": 25, "error_threshold": 0.1},
        {"name": "second", "share": 1.0, "success_threshold": 0.95},
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("pilot", "expected name:share%|size"),
    ("pilot:ten", "neither a share"),
    ("pilot:10%:x=1", "is not s=threshold or e=threshold"),
    ("pilot:10%:s=high", "expected a fraction"),
    ("pilot:10%,", "expected name:share%|size"),
    (":10%", "expected name:share%|size"),
])
def test_ota_cli_parse_groups_errors_name_the_group(text: str, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        parse_groups(text)


def test_ota_cli_build_body_merges_spec_and_options() -> None:
    """Options given override the --spec file; the target merges key by key."""
    spec = {"campaign_id": "c-1", "version": "1", "size_bytes": 1, "groups": [],
            "target": {"models": ["a"], "countries": ["BE"]}}
    body = build_body(spec, options={"version": "2", "size_bytes": None},
                      target={"models": ["b"], "vins": [], "min_os": None})
    assert body == {"campaign_id": "c-1", "version": "2", "size_bytes": 1, "groups": [],
                    "target": {"models": ["b"], "countries": ["BE"]}}
    with pytest.raises(OptionError, match="--version is required"):
        build_body({}, options={"campaign_id": "x"}, target={})


def test_ota_cli_describe_error_is_one_line() -> None:
    """The API's message with its field and rule, in one line; a rule the message already
    says is not said twice; a body that is not the API's is shown as it came."""
    assert describe_error(422, {"message": "size 11 bytes is outside 1..10 GB",
                                "field": "size_bytes", "rule": "1 GB <= size"}) \
        == "HTTP 422: size 11 bytes is outside 1..10 GB (field: size_bytes; rule: 1 GB <= size)"
    assert describe_error(422, {"message": "the body does not fit the schema",
                                "field": "target.propulsions.0",
                                "rule": "Input should be 'bev'"}) == (
        "HTTP 422: the body does not fit the schema (field: target.propulsions.0; "
        "rule: Input should be 'bev')")
    assert describe_error(404, {"message": "no campaign 'x'", "field": None,
                                "rule": None}) == "HTTP 404: no campaign 'x'"
    assert describe_error(403, {"message": "traffic may not use OTA campaigns: operator only",
                                "field": None,
                                "rule": "traffic may not use OTA campaigns: operator only"}) == (
        "HTTP 403: traffic may not use OTA campaigns: operator only")
    assert describe_error(502, "Bad Gateway") == "HTTP 502: Bad Gateway"


def test_ota_cli_create_posts_the_body(api: FakeApi, tmp_path: Path) -> None:
    """create sends the parsed options, overriding the spec file, and prints progress."""
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"campaign_id": "c-1", "version": "25-03.2",
                                "release_notes": "notes", "groups": [{"name": "all",
                                                                      "share": 1.0}]}))
    api.respond = _respond(201, PROGRESS)
    result = runner.invoke(app, ["create", "--spec", str(spec), "--size", "4GB",
                                 "--model", "cooper_se", "--propulsion", "bev",
                                 "--propulsion", "phev", "--min-os", "9",
                                 "--groups", "pilot:10%:s=1.0:e=0.5,rest:90%",
                                 "--timeout", "2d", "--no-start",
                                 "--api-url", "http://api.test"])
    assert result.exit_code == 0, result.output
    [request] = api.requests
    assert (request.method, str(request.url)) == ("POST", "http://api.test/ota/campaigns")
    assert json.loads(request.content) == {
        "campaign_id": "c-1", "version": "25-03.2", "release_notes": "notes",
        "size_bytes": 4_000_000_000, "action_timeout_s": 172_800.0, "start": False,
        "groups": [{"name": "pilot", "share": 0.1, "success_threshold": 1.0,
                    "error_threshold": 0.5}, {"name": "rest", "share": 0.9}],
        "target": {"models": ["cooper_se"], "propulsions": ["bev", "phev"],
                   "min_os": 9}}
    assert "paused (error_threshold)" in result.stdout
    assert "install_failed" in result.stdout


def test_ota_cli_api_error_is_one_line_and_exit_1(api: FakeApi) -> None:
    """A refused transition prints the API's rule in one line and exits 1."""
    api.respond = _respond(
        409, {"message": "campaign 'c-1': is paused; it cannot pause", "field": None,
              "rule": "pause only from running"})
    result = runner.invoke(app, ["pause", "c-1", "--api-url", "http://api.test"])
    assert result.exit_code == EXIT_FAILED
    assert result.stderr == ("error: HTTP 409: campaign 'c-1': is paused; it cannot pause "
                             "(rule: pause only from running)\n")
    assert str(api.requests[0].url) == "http://api.test/ota/campaigns/c-1/pause"


def test_ota_cli_bad_option_exits_2_without_calling(api: FakeApi) -> None:
    result = runner.invoke(app, ["create", "--id", "c", "--version", "1", "--size", "lots",
                                 "--groups", "all:100%"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr.startswith("error: --size: 'lots' is not a size")
    assert api.requests == []


def test_ota_cli_unreachable_api_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(api_client, "TRANSPORT", httpx.MockTransport(refuse))
    monkeypatch.setenv("TELEMATICS_API_URL", "http://down.test:9")
    result = runner.invoke(app, ["progress", "c-1"])
    assert result.exit_code == EXIT_FAILED
    assert result.stderr.startswith("error: cannot reach the backend API at "
                                    "http://down.test:9 (ConnectError: connection refused)")
    assert result.stderr.count("\n") == 1


def test_ota_cli_progress_json_passes_the_api_through(api: FakeApi) -> None:
    api.respond = _respond(200, PROGRESS)
    result = runner.invoke(app, ["progress", "c-1", "--json", "--api-url", "http://a.test"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == PROGRESS
