"""``telematics ota``: create and steer OTA campaigns through the backend's HTTP API.

A thin client of ``/ota/campaigns`` (backend/api/routes/ota.py). Sizes and durations
are read by ``protocols.units``, the way the contract reads the catalogue's "1 tot 10 GB"
(§15, OTA-R1): 1 GB = 10**9 bytes; a timeout is ``90min``, ``36h`` or ``7d``.
Groups are written ``name:amount[:s=X][:e=Y]`` separated by commas, where the amount
is a share (``10%``) or a number of cars (``25``), ``s`` the success threshold and
``e`` the error threshold (``0.5`` or ``50%``), hawkBit's rollout groups
(docs/requirements.md#ota-r7). A bad option is one ``error:`` line and exit status 2; an
error of the API is one line with its detail (field and rule) and exit status 1, and so
is a campaign that targets no car (it is stored, and says so) or a filter that matches
nothing, each with a ``warning:`` line on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cli.api_client import DEFAULT_API_URL, TokenOpt, call
from cli.output import EXIT_BAD_INPUT, EXIT_FAILED, emit_json, fail, make_console, warn
from protocols.errors import ProtocolError
from protocols.units import parse_duration, parse_size

_GROUP_FORM: Final = "name:share%|size[:s=threshold][:e=threshold]"

app = typer.Typer(no_args_is_help=True)

ApiOpt = Annotated[str | None, typer.Option("--api-url",
                                            help="backend HTTP API; default: "
                                                 "$TELEMATICS_API_URL or " + DEFAULT_API_URL)]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="campaign id")]


class OptionError(ValueError):
    """An option value that cannot be read; the message names the option."""


# -- parsing (pure) ---------------------------------------------------------------------
T = TypeVar("T")


def read_option(option: str, text: str, parse: Callable[[str], T]) -> T:
    """``parse(text)``, its error restated as an ``OptionError`` naming ``option``."""
    try:
        return parse(text)
    except ProtocolError as exc:
        raise OptionError(f"{option}: {exc.args[0]}") from None


def parse_fraction(text: str, *, option: str) -> float:
    """A threshold or share: ``0.5`` or ``50%``."""
    raw = text.strip()
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise OptionError(f"{option} {text!r}: expected a fraction like 0.5 or 50%") from None


def parse_groups(text: str) -> list[dict[str, Any]]:
    """Rollout groups from ``pilot:10%:s=1.0:e=0.5,wave:40%,rest:50%``."""
    groups: list[dict[str, Any]] = []
    for item in text.split(","):
        name, *rest = [part.strip() for part in item.split(":")]
        if not name or not rest:
            raise OptionError(f"--groups {item.strip()!r}: expected {_GROUP_FORM}")
        amount, *rules = rest
        group: dict[str, Any] = {"name": name}
        if amount.endswith("%"):
            group["share"] = parse_fraction(amount, option=f"--groups {name}")
        elif amount.isdigit():
            group["size"] = int(amount)
        else:
            raise OptionError(f"--groups {name}: amount {amount!r} is neither a share (10%) "
                              "nor a number of cars (25)")
        for rule in rules:
            key, sep, value = rule.partition("=")
            if not sep or key not in ("s", "e"):
                raise OptionError(f"--groups {name}: {rule!r} is not s=threshold or "
                                  "e=threshold")
            field = "success_threshold" if key == "s" else "error_threshold"
            group[field] = parse_fraction(value, option=f"--groups {name} {key}")
        groups.append(group)
    return groups


def build_body(spec: dict[str, Any], *, options: dict[str, Any],
               target: dict[str, Any]) -> dict[str, Any]:
    """The create body: the ``--spec`` file's object, overridden by the options given."""
    body = dict(spec)
    body.update({k: v for k, v in options.items() if v is not None})
    merged = dict(body.get("target") or {})
    merged.update({k: v for k, v in target.items() if v not in (None, [])})
    if merged:
        body["target"] = merged
    for key, option in (("campaign_id", "--id"), ("version", "--version"),
                        ("size_bytes", "--size"), ("groups", "--groups")):
        if key not in body:
            raise OptionError(f"{option} is required (or {key} in --spec)")
    return body


# -- HTTP -------------------------------------------------------------------------------
def _call(api_url: str | None, method: str, path: str, body: object = None,
          params: dict[str, str] | None = None, *, token: str | None) -> Any:
    return call(api_url, method, path, body=body, params=params, token=token)


# -- output -----------------------------------------------------------------------------
def _console() -> Console:
    return make_console(highlight=False)


_IN_PROGRESS: Final = ("offered", "downloading", "awaiting_confirmation", "installing")


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime(
        "%Y-%m-%d %H:%M:%S")


def print_progress(console: Console, data: dict[str, Any]) -> None:
    """Campaign status, a table per group with its thresholds, and the reason codes."""
    paused = f" ({data['paused_reason']})" if data.get("paused_reason") else ""
    critical = ", critical" if data["critical"] else ""
    console.print(f"campaign {data['campaign_id']} version {data['version']} "
                  f"({data['size_bytes'] / 1e9:.2f} GB{critical}): {data['status']}{paused}; "
                  f"current group: {data['current_group'] or '-'}; {data['vehicles']} vehicles")
    counts = ", ".join(f"{status} {n}" for status, n in data["counts"].items() if n)
    console.print(f"vehicles by status: {counts or 'none'}")
    table = Table(title="groups")
    for column in ("group", "size", "released", "pending", "in progress", "done", "failed",
                   "timed out", "refused", "cancelled", "success ≥", "error ≥"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for g in data["groups"]:
        c = g["counts"]
        table.add_row(g["name"], str(g["size"]), "yes" if g["released"] else "no",
                      str(c["pending"]), str(sum(c[s] for s in _IN_PROGRESS)),
                      *(str(c[s]) for s in ("done", "failed", "timed_out", "refused",
                                            "cancelled")),
                      f"{g['success_threshold']:.0%}", f"{g['error_threshold']:.0%}")
    console.print(table)
    if data["reasons"]:
        reasons = Table(title="reason codes")
        reasons.add_column("reason")
        reasons.add_column("vehicles", justify="right")
        for reason, count in data["reasons"].items():
            reasons.add_row(reason, str(count))
        console.print(reasons)


def _read_spec(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"--spec {path}: {exc}", EXIT_BAD_INPUT)
    if not isinstance(spec, dict):
        fail(f"--spec {path}: expected a JSON object", EXIT_BAD_INPUT)
    return spec


# -- commands ---------------------------------------------------------------------------
@app.command("create")
def create(
    campaign_id: Annotated[str | None, typer.Option("--id", help="campaign id")] = None,
    version: Annotated[str | None, typer.Option(help="software version offered")] = None,
    size: Annotated[str | None, typer.Option(help="download size: 4GB, 4.2GB or bytes "
                                                  "(1..10 GB)")] = None,
    model: Annotated[list[str] | None, typer.Option("--model", help="repeatable")] = None,
    propulsion: Annotated[list[str] | None,
                          typer.Option("--propulsion", help="ice, bev or phev; "
                                                            "repeatable")] = None,
    country: Annotated[list[str] | None, typer.Option("--country", help="BE, NL, ...; "
                                                                        "repeatable")] = None,
    vin: Annotated[list[str] | None, typer.Option("--vin", help="repeatable")] = None,
    min_os: Annotated[int | None, typer.Option("--min-os")] = None,
    max_os: Annotated[int | None, typer.Option("--max-os")] = None,
    groups: Annotated[str | None, typer.Option(help=f"comma-separated {_GROUP_FORM}, e.g. "
                                                    "pilot:10%:s=1.0:e=0.5,wave:40%,"
                                                    "rest:50%")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="JSON body of POST "
                                                             "/ota/campaigns; options given "
                                                             "override it")] = None,
    timeout: Annotated[str | None, typer.Option(help="per-vehicle action timeout: 600, "
                                                     "90min, 36h, 7d")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="release notes")] = None,
    critical: Annotated[bool, typer.Option("--critical", help="a critical security "
                                                              "update (OTA-R2, art. 3.8)")] = False,
    no_start: Annotated[bool, typer.Option("--no-start", help="store it planned")] = False,
    api_url: ApiOpt = None, token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a campaign and, unless --no-start, offer its first group."""
    try:
        options = {"campaign_id": campaign_id, "version": version,
                   "size_bytes": None if size is None else read_option("--size", size,
                                                                       parse_size),
                   "groups": None if groups is None else parse_groups(groups),
                   "action_timeout_s": None if timeout is None else read_option(
                       "--timeout", timeout, parse_duration),
                   "release_notes": notes, "critical": True if critical else None,
                   "start": False if no_start else None}
        body = build_body(_read_spec(spec), options=options, target={
            "models": model, "propulsions": propulsion, "countries": country, "vins": vin,
            "min_os": min_os, "max_os": max_os})
    except OptionError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    data = _call(api_url, "POST", "/ota/campaigns", body, token=token)
    if as_json:
        emit_json(data)
    else:
        print_progress(_console(), data)
    if not data["vehicles"]:
        warn(f"campaign {data['campaign_id']} targets no car: no registered vehicle matches "
             f"its target; it is stored ({data['status']}) and offers nothing")
        raise typer.Exit(EXIT_FAILED)


@app.command("list")
def list_campaigns(
    status: Annotated[str | None, typer.Option(help="only campaigns in this status")] = None,
    api_url: ApiOpt = None, token: TokenOpt = None, as_json: JsonOpt = False,
) -> None:
    """Every campaign with its status and counts (exit 1 when --status matches none)."""
    data = _call(api_url, "GET", "/ota/campaigns",
                 params={"status": status} if status else None, token=token)
    if as_json:
        emit_json(data)
    else:
        _console().print(campaigns_table(data))
    if status:
        _exit_if_none_found(data, f"no campaign is {status}")


def campaigns_table(data: dict[str, Any]) -> Table:
    table = Table(title=f"OTA campaigns ({data['count']})")
    for column in ("campaign", "version", "status", "group", "vehicles", "done", "failed",
                   "timed out", "refused"):
        table.add_column(column)
    for c in data["data"]:
        status_text = c["status"] + (f" ({c['paused_reason']})" if c["paused_reason"] else "")
        table.add_row(c["campaign_id"], c["version"], status_text, c["current_group"] or "-",
                      str(c["vehicles"]), *(str(c["counts"][s]) for s in
                                            ("done", "failed", "timed_out", "refused")))
    return table


@app.command("progress")
def show_progress(campaign_id: IdArg, api_url: ApiOpt = None, token: TokenOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Progress per group, thresholds, and the reason codes of cars that did not succeed."""
    data = _call(api_url, "GET", f"/ota/campaigns/{campaign_id}", token=token)
    if as_json:
        emit_json(data)
        return
    print_progress(_console(), data)


@app.command("vehicles")
def show_vehicles(
    campaign_id: IdArg,
    status: Annotated[str | None, typer.Option(help="only cars in this status")] = None,
    group: Annotated[str | None, typer.Option(help="only cars of this group")] = None,
    api_url: ApiOpt = None, token: TokenOpt = None, as_json: JsonOpt = False,
) -> None:
    """Each car of the campaign: group, status, reason code, last change (exit 1 when
    --status or --group matches none)."""
    params = {k: v for k, v in (("status", status), ("group", group)) if v}
    data = _call(api_url, "GET", f"/ota/campaigns/{campaign_id}/vehicles", params=params,
                 token=token)
    if as_json:
        emit_json(data)
    else:
        _console().print(vehicles_table(campaign_id, data))
    if params:
        _exit_if_none_found(data, f"no car of campaign {campaign_id} has "
                            + " and ".join(f"{k} {v}" for k, v in params.items()))


def vehicles_table(campaign_id: str, data: dict[str, Any]) -> Table:
    table = Table(title=f"campaign {campaign_id}: vehicles ({data['count']})")
    for column in ("vin", "group", "status", "reason", "updated (UTC)"):
        table.add_column(column)
    for v in data["data"]:
        table.add_row(v["vin"], v["group"], v["status"], v["reason"] or "-",
                      _when(v["updated_at"]))
    return table


def _exit_if_none_found(data: dict[str, Any], said: str) -> None:
    """A filter that matched nothing: a warning and exit 1 once the (empty) answer is
    printed, as grep does; an unfiltered empty list is an answer like any other."""
    if not data["count"]:
        warn(said)
        raise typer.Exit(EXIT_FAILED)


def _transition(action: str, campaign_id: str, api_url: str | None, as_json: bool,
                token: str | None) -> None:
    data = _call(api_url, "POST", f"/ota/campaigns/{campaign_id}/{action}", token=token)
    if as_json:
        emit_json(data)
        return
    paused = f" ({data['paused_reason']})" if data.get("paused_reason") else ""
    typer.echo(f"campaign {campaign_id}: {data['status']}{paused}")


@app.command("start")
def start_campaign(campaign_id: IdArg, api_url: ApiOpt = None, token: TokenOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Start a planned campaign: the first group is offered."""
    _transition("start", campaign_id, api_url, as_json, token)


@app.command("pause")
def pause_campaign(campaign_id: IdArg, api_url: ApiOpt = None, token: TokenOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Stop releasing groups; cars already offered carry on."""
    _transition("pause", campaign_id, api_url, as_json, token)


@app.command("resume")
def resume_campaign(campaign_id: IdArg, api_url: ApiOpt = None, token: TokenOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Continue a paused campaign; the failures seen so far no longer pause it."""
    _transition("resume", campaign_id, api_url, as_json, token)


@app.command("cancel")
def cancel_campaign(campaign_id: IdArg, api_url: ApiOpt = None, token: TokenOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Cancel: offers not yet installing are withdrawn."""
    _transition("cancel", campaign_id, api_url, as_json, token)
