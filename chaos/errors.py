"""The error tree of ``chaos``: ``ChaosError`` > ``PlanError`` (bad input), ``FaultError``."""

from __future__ import annotations


class ChaosError(RuntimeError):
    """Something the chaos run could not do; the message says what."""


class PlanError(ChaosError, ValueError):
    """The operator's input breaks a rule (unknown fault, bad duration, bad ``--pid``);
    ``option`` names the option, so the command can say which one and exit 2."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


class FaultError(ChaosError):
    """A fault could not be injected (the process is gone, Redis refused the pause)."""
