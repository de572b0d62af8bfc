"""Every schema error of a YAML file in one message, each naming its key and its rule.

Scenarios (``vehicle_sim.scenario``) and load profiles (``loadtest.profile``) are written
by hand; showing only the first mistake makes the writer fix them one run at a time.
pydantic collects them all: each becomes a line ``key.path: message (rule: type)``, the
rule being pydantic's error type (``missing``, ``extra_forbidden``, ``greater_than`` ...);
a check of our own (a ``value_error``) says its rule in its message, so it is not repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Loc = tuple[int | str, ...]
# Error types whose message is the rule itself: the checks written in our validators.
_OWN_RULES: Final = frozenset({"value_error", "assertion_error"})


def dotted(loc: Loc) -> str:
    """``vehicles.0.vin``; empty for the file as a whole (a check across its keys)."""
    return ".".join(str(p) for p in loc)


def _line(error: ErrorDetails, where: Callable[[Loc], str]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    rule = "" if error["type"] in _OWN_RULES else f" (rule: {error['type']})"
    key = where(error["loc"])
    return f"{key}: {message}{rule}" if key else f"{message}{rule}"


def describe(exc: ValidationError, source: str,
             where: Callable[[Loc], str] = dotted) -> str:
    """``source: key: message (rule: type)`` for one error; for several, a count and one
    indented line each, in the order pydantic found them (the file's order)."""
    lines = [_line(error, where) for error in exc.errors()]
    if len(lines) == 1:
        return f"{source}: {lines[0]}"
    return f"{source}: {len(lines)} errors:\n" + "\n".join(f"  {line}" for line in lines)
