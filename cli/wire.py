"""``telematics wire``: what a payload of the wire contract means, or what is wrong with it.

For an integrator connecting their own TCU (docs/wire-contract.md): ``decode`` prints the
JSON reading of a payload, ``check`` says whether the backend would take it on a topic
or names the field and the rule it breaks. Exit status: 0 acceptable, 1 refused, 2 bad
input (not hex, no such file), with a one-line message on stderr.

``doc`` and ``examples`` regenerate docs/wire-contract.md and the golden payloads under
docs/wire-examples/ from the code; a test fails when they are stale.
"""

from __future__ import annotations

import json
import string
import time
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer

from cli.msd import parse_hex
from cli.output import EXIT_FAILED, bad_input, emit_json, fail, note
from cli.wire_doc import DOC_PATH, EXAMPLES_DIR, render
from cli.wire_examples import EXAMPLES
from cli.wire_reading import Reading, check, meaning, read
from protocols.contract import contract_of
from protocols.errors import ProtocolError
from protocols.topics import parse_topic

_HEX_TEXT: Final = frozenset((string.hexdigits + string.whitespace + "xX").encode())

app = typer.Typer(
    help="Decode and check payloads of the wire contract (docs/wire-contract.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PayloadArg = Annotated[str, typer.Argument(
    metavar="FILE_OR_HEX", help="A file holding the payload (binary or hex text), or hex.")]


def payload_from(source: str) -> bytes:
    """The payload named by ``source``: a file (binary, or hex text) or hex on the line."""
    try:
        data = Path(source).read_bytes()
    except OSError:  # no such file, a name too long for one, unreadable: try it as hex
        data = None
    if data is not None:
        return parse_hex(data.decode("ascii")) if data and set(data) <= _HEX_TEXT else data
    if not set(source.encode()) <= _HEX_TEXT:
        bad_input(f"{source}: no such file, and not hex")
    return parse_hex(source)


def _topic_kind(topic: str) -> None:
    try:
        parse_topic(topic)
    except ProtocolError as exc:
        bad_input(f"--topic: {exc}")


def _why_refused(exc: ProtocolError) -> str:
    return f"field {exc.field or '-'} breaks rule: {exc.rule or '-'} ({exc})"


def _refused(exc: ProtocolError) -> NoReturn:
    """``check``'s answer: the verdict on stdout, exit 1."""
    typer.echo(f"refused: {_why_refused(exc)}")
    raise typer.Exit(code=EXIT_FAILED)


@app.command()
def decode(
    source: PayloadArg,
    topic: Annotated[str | None, typer.Option(
        "--topic", help="The topic it came on; without it the payload's kind header decides.")]
    = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="One compact line of JSON instead of the indented form.")] = False,
) -> None:
    """Print what a payload means as JSON: kind, fields, the MSD decoded. A payload that
    cannot be read is an error on stderr naming the field and the rule (exit 1)."""
    payload = payload_from(source)
    if topic is not None:
        _topic_kind(topic)
    try:
        reading = read(payload, topic)
    except ProtocolError as exc:
        fail(_why_refused(exc))
    if as_json:
        emit_json(meaning(reading))
    else:
        typer.echo(json.dumps(meaning(reading), indent=2, ensure_ascii=False))
    for remark in reading.remarks:
        note(remark)


@app.command("check")
def check_command(
    source: PayloadArg,
    topic: Annotated[str, typer.Option("--topic", help="The topic it is published on.")],
    now: Annotated[float | None, typer.Option(
        "--now", help="The backend's clock, epoch seconds (default: now), for the time "
                      "window of the services lane.")] = None,
) -> None:
    """Say whether the backend would take a payload on a topic, or what is wrong with it."""
    payload = payload_from(source)
    _topic_kind(topic)
    try:
        reading = check(topic, payload, now=time.time() if now is None else now)
    except ProtocolError as exc:
        _refused(exc)
    typer.echo(_accepted(reading, len(payload)))
    for remark in reading.remarks:
        typer.echo(f"note: {remark}")


def _accepted(reading: Reading, size: int) -> str:
    contract = reading.contract
    return (f"acceptable: {contract.message.name} on {contract.kind} ({contract.direction}, "
            f"QoS {contract.qos}), {size} bytes")


@app.command()
def doc(
    check_only: Annotated[bool, typer.Option(
        "--check", help="Only say whether the document is current (exit 1 if not).")]
    = False,
) -> None:
    """Write docs/wire-contract.md from the code (run from the repository root)."""
    _write_or_compare({DOC_PATH: render()}, check_only)


@app.command()
def examples(
    check_only: Annotated[bool, typer.Option(
        "--check", help="Only say whether the goldens are current (exit 1 if not).")]
    = False,
) -> None:
    """Write the golden payloads of docs/wire-examples/ with the real encoders."""
    _write_or_compare(golden_files(), check_only)


def golden_files() -> dict[str, str]:
    """Each golden's path and text: ``NAME.hex`` (the payload) and ``NAME.json`` (its reading)."""
    files: dict[str, str] = {}
    for example in EXAMPLES:
        contract = contract_of(parse_topic(example.topic).kind)
        payload = contract.message.encode(example.message)
        reading = meaning(read(payload, example.topic))
        files[f"{EXAMPLES_DIR}/{example.name}.hex"] = payload.hex().upper() + "\n"
        files[f"{EXAMPLES_DIR}/{example.name}.json"] = json.dumps(reading, indent=2) + "\n"
    return files


def _write_or_compare(files: dict[str, str], check_only: bool) -> None:
    if not Path("docs").is_dir():
        bad_input("no docs/ here: run this from the repository root")
    stale = [name for name, text in files.items()
             if not Path(name).is_file() or Path(name).read_text(encoding="utf-8") != text]
    if check_only:
        if stale:
            fail(f"stale: {', '.join(stale)}; run `telematics wire doc` and "
                 "`telematics wire examples` from the repository root")
        return
    for name in stale:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(files[name], encoding="utf-8")
        typer.echo(f"wrote {name}")
