"""Retention deadlines, computed from a record's rule and its times; no I/O.

MINI Connected states per service how long the backend may keep a record and which event
starts the clock (docs/requirements.md#plat-r1 and #catalogue, typed in
``protocols.catalogue_model.RetentionRule``). Each kind becomes a deadline here:

- ``fixed_window``: ``written_at`` plus the window; e.g. Customer Hotline "uiterlijk na 28
  dagen gewist" (§2a, 28 days), HV Warn Call "zes maanden na een gemeld incident" (§2b,
  six calendar months: 15 July to 15 January; docs/requirements.md#conv-months).
- ``inactivity_window``: the earlier of ``written_at`` plus the window and
  ``last_data_at`` plus the idle limit; Learning Navigation keeps data 12 calendar months
  for active users and deletes it after 3 calendar months without new data (catalogue
  row ``learning_navigation``).
- ``until_closed``: ``closed_at + close_window_s``, none while open; Teleservice,
  Roadside and Accident Assistance keep data "until … all procedures are completed"
  (MINI Connected §16a, §16e, §16f; TS-R5, AS-R4).
- ``vehicle_lifetime``: the end of the vehicle's life, none before; Digital Key info
  (§6, row ``digital_key``) and RSU maintenance info (row ``rsu``, OTA-R6).
- ``not_stated``: no deadline ever; kept until erased on request (CONV-4: nothing
  has been guessed).
- ``never_stored``: Legal and PSAP eCall store nothing in the backend (§7b, §7c;
  ECALL-R5, ECALL-R9), so asking for a deadline is refused like any write would be.

The store (``backend.privacy.retention_store``) keeps these numbers in Redis; everything that
decides is here, so it is tested without Redis and shared by every caller.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from backend.privacy.errors import NeverStoredError, RetentionError
from protocols.catalogue_model import RetentionRule

NEVER_STORED_RULE: Final = "never_stored: nothing of it may be written to the backend"


def _instant(name: str, value: float | None, kind: str) -> None:
    if value is not None and not math.isfinite(value):
        raise RetentionError(f"{name} {value!r} is not an instant", field=name,
                             rule=f"{kind}: finite epoch seconds")


def _not_before(name: str, value: float | None, written_at: float, kind: str) -> None:
    _instant(name, value, kind)
    if value is not None and value < written_at:
        raise RetentionError(f"{name} {value!r} is before written_at {written_at!r}",
                             field=name, rule=f"{kind}: not before written_at")


def refuse_never_stored(rule: RetentionRule, *, service: str) -> None:
    """Raise before anything of a ``never_stored`` service reaches Redis (§7b, §7c)."""
    if not rule.stores:
        raise NeverStoredError(f"{service!r} may not be stored in the backend",
                               field="service", rule=NEVER_STORED_RULE)


def deadline(rule: RetentionRule, *, written_at: float, closed_at: float | None = None,
             last_data_at: float | None = None,
             life_ended_at: float | None = None) -> float | None:
    """When a record written at ``written_at`` must be gone; None while none is due yet.

    None means: ``until_closed`` still open, ``vehicle_lifetime`` vehicle still alive,
    or ``not_stated`` (kept until erased on request). Times the rule does not use are
    ignored, so a caller may always pass everything it knows.
    """
    kind = rule.kind
    _instant("written_at", written_at, kind)
    if kind == "never_stored":
        raise NeverStoredError("a never_stored record has no deadline: it is never written",
                               field="rule", rule=NEVER_STORED_RULE)
    if kind == "fixed_window":
        return rule.window_end(written_at)
    if kind == "inactivity_window":
        _not_before("last_data_at", last_data_at, written_at, kind)
        last = written_at if last_data_at is None else last_data_at
        return min(rule.window_end(written_at), rule.idle_end(last))
    if kind == "until_closed":
        _not_before("closed_at", closed_at, written_at, kind)
        return None if closed_at is None else closed_at + rule.close_window_s
    if kind == "vehicle_lifetime":
        _instant("life_ended_at", life_ended_at, kind)
        return life_ended_at
    return None  # not_stated


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag:
    """What the backend knows about one stored record for retention.

    The rule is a snapshot taken when the record was written, so a later catalogue
    change never shortens or stretches the life of a record already stored. ``ref`` is
    a random token, not derived from the key: the audit entry names the record by it,
    and once the record is deleted nothing links the token back to the record.
    ``indexes`` lists (container key, member) pairs the record is also listed in.
    """

    record_key: str
    service: str
    rule: RetentionRule
    vin: str
    written_at: float
    ref: str
    indexes: tuple[tuple[str, str], ...] = ()
    closed_at: float | None = None
    last_data_at: float | None = None
    life_ended_at: float | None = None

    @property
    def deadline(self) -> float | None:
        return deadline(self.rule, written_at=self.written_at, closed_at=self.closed_at,
                        last_data_at=self.last_data_at, life_ended_at=self.life_ended_at)


def _expect(tag: Tag, kind: str, what: str) -> None:
    if tag.rule.kind != kind:
        raise RetentionError(f"{what} applies to {kind} records; {tag.record_key!r} of "
                             f"{tag.service!r} is {tag.rule.kind}", field="rule",
                             rule=f"{what}: {kind} only")


def closed(tag: Tag, *, at: float) -> Tag:
    """The procedure is closed; the first closure counts, so a repeat never extends it."""
    _expect(tag, "until_closed", "close")
    if tag.closed_at is not None:
        return tag
    _not_before("closed_at", at, tag.written_at, tag.rule.kind)
    return replace(tag, closed_at=at)


def touched(tag: Tag, *, at: float) -> Tag:
    """New data arrived; only a later instant moves the inactivity deadline."""
    _expect(tag, "inactivity_window", "touch")
    _instant("at", at, tag.rule.kind)
    last = tag.written_at if tag.last_data_at is None else tag.last_data_at
    return tag if at <= last else replace(tag, last_data_at=at)


def life_ended(tag: Tag, *, at: float) -> Tag:
    """The vehicle's life ended; the earliest end counts."""
    _expect(tag, "vehicle_lifetime", "end of vehicle life")
    _instant("at", at, tag.rule.kind)
    if tag.life_ended_at is not None and tag.life_ended_at <= at:
        return tag
    return replace(tag, life_ended_at=at)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceReport:
    """One service's line of the retention report, built from figures the store read.

    ``held`` counts every record still stored, ``pending`` those without a deadline
    yet; ``overdue`` counts records past their deadline, which must be none after a
    sweep. ``deleted`` counts deadline deletions, ``erased`` erasures on request.
    """

    service: str
    rule: str
    held: int
    pending: int
    oldest_written_at: float | None
    next_due: float | None
    deleted: int
    erased: int
    overdue: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def service_report(service: str, *, rule: str, held: int, due: int,
                   oldest_written_at: float | None, next_due: float | None,
                   deleted: int, erased: int, overdue: int) -> ServiceReport:
    """A report line from raw counts; ``due`` is the number of records with a deadline."""
    for name, value in (("held", held), ("due", due), ("deleted", deleted),
                        ("erased", erased), ("overdue", overdue)):
        if value < 0:
            raise RetentionError(f"{name} {value} is negative", field=name,
                                 rule="counts are >= 0")
    return ServiceReport(service=service, rule=rule, held=held, pending=max(held - due, 0),
                         oldest_written_at=oldest_written_at, next_due=next_due,
                         deleted=deleted, erased=erased, overdue=overdue)
