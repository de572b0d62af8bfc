"""What every command prints and how it ends, in one place.

Commands share one contract so that scripts can rely on it (README, "Exit status and
output"): with ``--json`` stdout holds exactly one compact JSON document and nothing else;
errors, warnings and notes go to stderr, each one ``error:``/``warning:``/``note:`` line
(a list, such as every schema error of a file, follows on indented lines); the
exit status is 0 when all went well, 1 when a check failed, nothing was found or targeted,
or a server refused or could not be reached, and 2 when the input was bad (options, files,
scenarios). Tables are drawn by ``make_console``, wide when stdout is not a terminal, so piped
output is not wrapped at 80 columns.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import IO, Any, Final, NoReturn, cast

import typer
from rich.console import Console

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1  # a failed check, nothing found or targeted, a server's refusal
EXIT_BAD_INPUT: Final = 2  # options, files or scenarios that cannot be used
EXIT_CODES_HELP: Final = ("Exit status: 0 ok; 1 a check failed, nothing was found or "
                          "targeted, or a server refused or could not be reached; 2 bad "
                          "input (options, files, scenarios). With --json, stdout holds one "
                          "compact JSON document; messages go to stderr.")
# Columns of a table written to a pipe or a file: wide enough that no row wraps, so a
# line of output stays a line for grep and awk; a terminal keeps its own width, and
# $COLUMNS, when set, is the width asked for.
PIPE_WIDTH: Final = 240


def compact_json(data: object) -> str:
    """One line of JSON with no padding: ``{"a":1,"b":[2,3]}``."""
    return json.dumps(data, separators=(",", ":"))


def emit_json(data: object) -> None:
    """The ``--json`` answer of a command: one compact document on stdout, flushed."""
    sys.stdout.write(compact_json(data) + "\n")
    sys.stdout.flush()


def _lines(message: str) -> str:
    """Each line of ``message`` with its spacing squeezed; lines after the first indented,
    so a list (every schema error of a file) reads as part of one message."""
    lines = [" ".join(line.split()) for line in message.splitlines() if line.strip()]
    return "\n  ".join(lines)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """End the command: ``error: <message>`` on stderr and exit status ``code``."""
    typer.echo(f"error: {_lines(message)}", err=True)
    raise typer.Exit(code=code)


def bad_input(message: str) -> NoReturn:
    """End the command for input it cannot use (exit status 2)."""
    fail(message, EXIT_BAD_INPUT)


def warn(message: str) -> None:
    """``warning: <message>`` on stderr; the caller decides the exit status."""
    typer.echo(f"warning: {_lines(message)}", err=True)


def note(message: str) -> None:
    """``note: <message>`` on stderr: said to the person, never part of the answer."""
    typer.echo(f"note: {_lines(message)}", err=True)


_TRAILING: Final = re.compile(r"[ \t]+(?=\n)")


class _TrimmedLines:
    """A pipe's stream with each line's trailing blanks cut: rich pads logged lines to the
    console's width, which a wide pipe console would turn into 240 columns of spaces."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_TRAILING.sub("", text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._stream.fileno()


def make_console(*, stderr: bool = False, **options: Any) -> Console:
    """A rich console on stdout (or stderr): the terminal's width on a terminal, else
    ``$COLUMNS`` when set, else ``PIPE_WIDTH`` so that piped tables do not wrap (rich's
    own default there is 80), with the padding of each line cut."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, **options)
    width = None if os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(file=cast(IO[str], _TrimmedLines(stream)), width=width, **options)
