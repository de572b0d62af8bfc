"""Logging set-up for the command line (the only place that configures logging)."""

from __future__ import annotations

import logging


def configure(*, debug: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
