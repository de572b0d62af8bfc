"""In-memory stand-ins for the edges of the eCall path (``backend.emergency.edges``).

They keep what they are given as Redis would return it (bytes), so a relay or desk test
reads every entry and record back through its type, as in a run. Each fake implements
its protocol structurally; mypy checks that wherever one is passed where the protocol is
expected.
"""

from __future__ import annotations

from collections.abc import Mapping

from backend.infra.streams import FieldValue


def as_stored(fields: Mapping[str, FieldValue]) -> dict[bytes, bytes]:
    """Fields as Redis hands them back: names and values as bytes, numbers as their text."""
    return {name.encode(): value if isinstance(value, bytes) else str(value).encode()
            for name, value in fields.items()}
