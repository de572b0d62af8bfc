"""Logging set-up for the command line (the only place that configures logging)."""

from __future__ import annotations

import logging
import os
from typing import Annotated, Final

import typer

from backend.infra.log_lines import LOG_FORMATS, LogFormat, configure_logging

LOG_FORMAT_ENV: Final = "TELEMATICS_LOG_FORMAT"
LogFormatOpt = Annotated[str | None, typer.Option(
    "--log-format", help="text, or json: one JSON object a line, without personal data "
    f"(default: ${LOG_FORMAT_ENV}, else text); the backend roles follow it")]


def log_format(chosen: str | None = None) -> LogFormat:
    """The format asked for: ``chosen``, else ``$TELEMATICS_LOG_FORMAT``, else text; a bad
    name is a usage error (exit 2), said in one line."""
    name = (chosen or os.environ.get(LOG_FORMAT_ENV) or "text").lower()
    for known in LOG_FORMATS:
        if name == known:
            return known
    typer.echo(f"error: --log-format must be one of {', '.join(LOG_FORMATS)}, not {name!r}",
               err=True)
    raise typer.Exit(2)


def configure(*, debug: bool = False, chosen_format: str | None = None,
              role: str = "") -> LogFormat:
    """Set up logging for a command (running ``role``, if one); returns the format, which
    the roles it starts follow."""
    chosen = log_format(chosen_format)
    configure_logging(level=logging.DEBUG if debug else logging.WARNING, log_format=chosen,
                      role=role)
    return chosen
