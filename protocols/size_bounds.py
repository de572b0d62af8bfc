"""The one reading of a documented size bound, shared by every side that checks a size.

MINI Connected states its volumes as "minder dan X" (< X: X bytes breaks it) or
"maximaal X" (max X: X bytes is within), with 1 KB = 1,000 bytes
(docs/requirements.md#conv-bounds, #conv-units). The car's contract checks
(``protocols.envelope.pack`` for the eCall's "< 1 KB", ``protocols.hv``, ``protocols.assistance``,
``protocols.teleservice``), the emergency relay's flag counter and the budget meter
(``backend.privacy.budget_meter``) all answer "is this size within its bound" with
``within``, so a message of exactly X bytes gets the same answer everywhere: before this,
a 1,000-byte eCall passed the car, was flagged by the meter and not by the relay.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.errors import EnvelopeError


@dataclass(frozen=True, slots=True)
class SizeBound:
    """A documented bound of ``limit`` bytes; ``exclusive`` for "< X", inclusive for "max X".

    ``rule`` is the wording a refusal cites (the documents' figure and the requirement).
    """

    limit: int
    exclusive: bool
    rule: str = ""

    def __post_init__(self) -> None:
        if self.largest < 0:
            raise ValueError(f"a bound of {self.limit} bytes leaves no size within it")

    @property
    def largest(self) -> int:
        """The largest size within the bound: X - 1 for "< X", X for "max X"."""
        return self.limit - 1 if self.exclusive else self.limit


def within(bound: SizeBound, size: int) -> bool:
    """Whether ``size`` bytes keep to ``bound``: the one comparison of every size check."""
    return size <= bound.largest


def check_within(bound: SizeBound, size: int, *, field: str) -> None:
    """Refuse ``size`` bytes over ``bound`` with an ``EnvelopeError`` naming the field and rule."""
    if not within(bound, size):
        raise EnvelopeError(f"{field} is {size} bytes, over its bound", field=field,
                            rule=bound.rule)
