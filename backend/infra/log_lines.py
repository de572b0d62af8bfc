"""How the backend and the command line write their log: plain text, or JSON lines on request.

JSON lines (``--log-format json``, ``TELEMATICS_LOG_FORMAT=json`` for the roles) are for a
log shipper: one object per line with the time, level, role, logger and message, and the
incident id when the line is about one, so an operator can follow one call through the
roles. They never carry personal data: the relay logs incident ids and timings only
(docs/requirements.md#ecall-r5), no code logs a position, and any VIN a message quotes
(a few service lanes name the car) is replaced by ``<vin>`` before the line is written:
a shipped log is read by more people, and kept longer, than a developer's terminal.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Final, Literal

LogFormat = Literal["text", "json"]
LOG_FORMATS: Final[tuple[LogFormat, ...]] = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# ISO 3779: 17 characters, no I, O or Q; a letter and a digit among them, so an ordinary
# upper-case word of that length is left alone.
VIN_PATTERN: Final = re.compile(
    r"\b(?=[A-HJ-NPR-Z0-9]*[0-9])(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b")
# ``incident=ID`` or ``incident ID`` in a message, when the line did not pass ``incident``.
INCIDENT_IN_TEXT: Final = re.compile(r"\bincident[= ]([A-Za-z0-9][\w.:-]*)")


def without_vins(text: str) -> str:
    """``text`` with every VIN replaced by ``<vin>`` (pure)."""
    return VIN_PATTERN.sub("<vin>", text)


def incident_of(record: logging.LogRecord, message: str) -> str | None:
    """The incident a line is about: ``extra={"incident": ...}``, else named in the text."""
    given = getattr(record, "incident", None)
    if given:
        return str(given)
    found = INCIDENT_IN_TEXT.search(message)
    return found.group(1) if found else None


class JsonLines(logging.Formatter):
    """One JSON object per record; ``role`` names the process's role, if it has one."""

    def __init__(self, role: str = "") -> None:
        super().__init__()
        self._role = role

    def format(self, record: logging.LogRecord) -> str:
        message = without_vins(record.getMessage())
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        if self._role:
            line["role"] = self._role
        incident = incident_of(record, message)
        if incident is not None:
            line["incident"] = incident
        if record.exc_info:
            line["error"] = without_vins(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def configure_logging(*, level: int, log_format: LogFormat = "text", role: str = "") -> None:
    """Set up the root logger once for this process (the command line or a role)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLines(role))
    else:
        handler.setFormatter(logging.Formatter(
            TEXT_FORMAT.replace("%(levelname)s", f"{role} %(levelname)s") if role
            else TEXT_FORMAT))
    # Not forced: a process (a test run) that set up its own handlers keeps them.
    logging.basicConfig(level=level, handlers=[handler])
