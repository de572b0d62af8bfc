"""``telematics msd``: turn MSD hex into the standard's JSON form and back.

Meant for people holding a hex dump from a modem log or a PSAP screen, so it takes
hex in the forms those show (spaces, ``0x`` prefixes) and answers a malformed input
with one ``error: <field>: <what>`` line and exit status 2, like a usage error.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cli.output import bad_input, emit_json
from protocols.errors import ProtocolError
from protocols.msd import decode_msd, encode_msd, msd_from_json, msd_to_json

app = typer.Typer(
    help="Decode and encode EN 15722 eCall MSDs (UPER hex <-> JSON with the standard's names).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def parse_hex(text: str) -> bytes:
    """Bytes from hex written as one run, spaced octets, or ``0x``-prefixed octets."""
    digits = "".join(
        token[2:] if token[:2].lower() == "0x" else token for token in text.split()
    )
    if not digits:
        bad_input("hex: no hex digits given")
    if len(digits) % 2:
        bad_input(f"hex: odd number of hex digits ({len(digits)})")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        bad = next(c for c in digits if c not in "0123456789abcdefABCDEF")
        bad_input(f"hex: {bad!r} is not a hex digit")


@app.command()
def decode(
    hex_text: Annotated[list[str], typer.Argument(
        metavar="HEX", help="The MSD as hex; spaces and 0x prefixes are allowed.")],
    lenient: Annotated[bool, typer.Option(
        "--lenient", help="Skip the EN 15722 rules beyond the ASN.1 (140 bytes, ranges).")]
    = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="One compact line of JSON instead of the indented form.")] = False,
) -> None:
    """Print the MSD as indented JSON with the standard's field names."""
    data = parse_hex(" ".join(hex_text))
    try:
        msd = decode_msd(data, strict=not lenient)
    except ProtocolError as exc:
        bad_input(str(exc))
    if as_json:
        emit_json(msd_to_json(msd))
    else:
        typer.echo(json.dumps(msd_to_json(msd), indent=2))


@app.command()
def encode() -> None:
    """Read the JSON form on stdin and print the canonical UPER encoding as uppercase hex."""
    try:
        obj = json.loads(sys.stdin.read())
    except json.JSONDecodeError as exc:
        bad_input(f"json: {exc}")
    if not isinstance(obj, dict):
        bad_input(f"json: expected an object, got {type(obj).__name__}")
    try:
        data = encode_msd(msd_from_json(obj))
    except ProtocolError as exc:
        bad_input(str(exc))
    typer.echo(data.hex().upper())
