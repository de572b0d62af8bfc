"""The service catalogue as data: every row of seed 001's table, typed and versioned.

PLACEHOLDER: rows are being written; the types are in ``protocols.catalogue_model``.
"""

from __future__ import annotations

from typing import Final

from protocols.catalogue_model import CatalogueEntry, CatalogueError

CATALOGUE_VERSION: Final = "0"
CATALOGUE: Final[tuple[CatalogueEntry, ...]] = ()
_BY_KEY: Final[dict[str, CatalogueEntry]] = {e.key: e for e in CATALOGUE}


def entry(key: str) -> CatalogueEntry:
    """The row of ``key``; an unknown key is a CatalogueError naming the known ones."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise CatalogueError(f"no catalogue entry {key!r}; known: {sorted(_BY_KEY)}") from None
