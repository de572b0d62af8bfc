"""The anchors of the repository's documents, for the tests that check citations of them.

A citation ``docs/requirements.md#ts-r1`` is only worth something while the anchor exists;
the documents mark anchors as ``<a id="..."></a>`` and headings give GitHub-style ones.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "docs" / "requirements.md"

_EXPLICIT = re.compile(r'<a\s+(?:id|name)="([^"]+)"')
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def heading_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def anchors_of(document: Path) -> frozenset[str]:
    """Every anchor a link into ``document`` may name: explicit ids and heading slugs."""
    text = document.read_text(encoding="utf-8")
    return frozenset(_EXPLICIT.findall(text)) | {
        heading_slug(h) for h in _HEADING.findall(text)}


def requirement_ids() -> frozenset[str]:
    """The short ids of the rules in docs/requirements.md (``TS-R1``, ``SI-ART-9``, ``CONV-2``)."""
    text = REQUIREMENTS.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^### ([A-Z]+(?:-[A-Z]+)*-?[0-9]*)\s", text, re.MULTILINE))
