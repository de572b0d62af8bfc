"""Maintenance needs and the life of a maintenance case (MINI Connected §16a, §16b), pure.

The backend "determines" a maintenance need from a Teleservice Call or a Smart Maintenance
transfer and tells the preferred service centre (TS-R4 of docs/requirements.md). Retention
follows the case: data is "kept until a specific maintenance need has been determined and
communicated and all procedures are completed" (TS-R5, the same for Smart Maintenance).
Hence the life cycle::

    open ──notify──▶ notified ──close──▶ closed

``notified`` is "communicated"; ``closed`` is "all procedures are completed", which may
only follow communication. After ``closed`` the retention engine may delete the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Final, Literal

from backend.infra.hash_record import HashRecord
from backend.services.errors import CaseTransitionError
from protocols.teleservice import (
    DUE_SOON_DAYS,
    DUE_SOON_KM,
    SmartMaintenanceTransfer,
    TeleserviceCall,
)

Service = Literal["teleservice", "smart_maintenance"]
CaseStatus = Literal["open", "notified", "closed"]
CloseReason = Literal["procedures_completed", "serviced", "no_action_needed", "customer_declined"]
CLOSE_REASONS: Final[tuple[CloseReason, ...]] = (
    "procedures_completed", "serviced", "no_action_needed", "customer_declined")
CALL_INTERVAL_S: Final = 28 * 86_400.0  # TS-R1: "every 28 days"
CALL_INTERVAL_KM: Final = 1_000.0  # TS-R1: "every 1,000 km"
# TS-R5, calls that show no need: kept two call intervals, so the newest call is always
# checked against the one before it (TS-R1); the documents give no number of days.
NO_NEED_KEPT_S: Final = 2 * CALL_INTERVAL_S


@dataclass(frozen=True, slots=True)
class MaintenanceNeed:
    """What the preferred service centre is told: the findings behind the need."""

    vin: str
    source_id: str
    service: Service
    reason: str
    fault_codes: tuple[str, ...]
    due_items: tuple[str, ...]
    odometer_km: float
    at: float


def _source(message: TeleserviceCall | SmartMaintenanceTransfer) -> tuple[str, Service, str]:
    if isinstance(message, TeleserviceCall):
        return message.call_id, "teleservice", message.reason
    return message.transfer_id, "smart_maintenance", message.trigger


def decide(message: TeleserviceCall | SmartMaintenanceTransfer) -> MaintenanceNeed | None:
    """A need when there is a fault code, an item within 30 days / 1,500 km, or the car
    itself called for a service need; a regular call without findings is only recorded.
    """
    source_id, service, reason = _source(message)
    due = tuple(sorted({i.item for i in message.service_items
                        if i.due_km <= DUE_SOON_KM or i.due_days <= DUE_SOON_DAYS}))
    faults = tuple(sorted(set(message.fault_codes)))
    if not (faults or due or reason == "service_need"):
        return None
    return MaintenanceNeed(message.vin, source_id, service, reason, faults, due,
                           message.odometer_km, message.at)


@dataclass(frozen=True, slots=True)
class Case(HashRecord):
    """One maintenance case at a service partner, with the times retention needs.

    Stored as a hash of these fields (``to_fields``); its retention rule is its tag's
    (``backend.privacy.retention_tags``), not a field of its own.
    """

    case_id: str
    vin: str
    partner_id: str
    service: Service
    status: CaseStatus
    opened_at: float
    notified_at: float | None = None
    notified_via: str = ""
    closed_at: float | None = None
    close_reason: str = ""
    source_id: str = ""
    reason: str = ""
    fault_codes: tuple[str, ...] = ()
    due_items: tuple[str, ...] = ()
    odometer_km: float = 0.0


def open_case(need: MaintenanceNeed, *, case_id: str, partner_id: str, now: float) -> Case:
    """A new case for a need; it stays until communicated and closed (TS-R5)."""
    return Case(case_id, need.vin, partner_id, need.service, "open", now,
                source_id=need.source_id, reason=need.reason, fault_codes=need.fault_codes,
                due_items=need.due_items, odometer_km=need.odometer_km)


def notify(case: Case, *, now: float, via: str = "partner_desk") -> Case:
    """The need has been communicated to the partner (TS-R4): open → notified."""
    if case.status != "open":
        raise CaseTransitionError(
            f"case {case.case_id!r} is {case.status}; only an open case can be notified",
            case_id=case.case_id, rule="notify only from open")
    return replace(case, status="notified", notified_at=now, notified_via=via)


def close(case: Case, *, now: float, reason: CloseReason = "procedures_completed") -> Case:
    """All procedures are completed: notified → closed, never before communication."""
    if reason not in CLOSE_REASONS:
        raise CaseTransitionError(f"unknown close reason {reason!r}", case_id=case.case_id,
                                  rule="|".join(CLOSE_REASONS))
    if case.status == "closed":
        raise CaseTransitionError(f"case {case.case_id!r} is already closed",
                                  case_id=case.case_id, rule="a closed case does not move")
    if case.status != "notified":
        raise CaseTransitionError(
            f"case {case.case_id!r} is {case.status}; it can be closed only after the "
            "need was communicated",
            case_id=case.case_id,
            rule="close only from notified "
                 "(MINI Connected §16a, TS-R5: determined and communicated)")
    return replace(case, status="closed", closed_at=now, close_reason=reason)


@dataclass(frozen=True, slots=True)
class CallRecord(HashRecord):
    """One received call, as kept for checking the car's rhythm (a hash of these fields;
    the car's VIN is in its key and its retention tag). ``need`` says whether the
    backend determined a maintenance need from it (``decide``); a record from before
    the field existed reads as showing a need, so it stays until a case closes."""

    call_id: str
    reason: str
    at: float
    odometer_km: float
    need: bool = True


def superseded(held: Sequence[CallRecord], *, newest_at: float) -> list[CallRecord]:
    """The held calls that a call made at ``newest_at`` supersedes (TS-R5, no need).

    A call that shows no need has nothing to be communicated or completed; the reading
    of docs/requirements.md#ts-r5 keeps it ``NO_NEED_KEPT_S`` (two call intervals) and
    no longer, unless a need before it is still open: then it belongs to that need's
    cycle and goes when its case closes. Only the oldest calls go, so what is held is
    always an unbroken run of the car's calls and the rhythm check (``late_calls``)
    never reads a gap as a late call.
    """
    out = []
    for call in sorted(held, key=lambda c: (c.at, c.odometer_km)):
        if call.need or newest_at - call.at < NO_NEED_KEPT_S:
            break
        out.append(call)
    return out


def late_calls(calls: Sequence[CallRecord], *, slack_s: float = 86_400.0,
               slack_km: float = 50.0) -> list[CallRecord]:
    """Calls that came later than 28 days or 1,000 km after the one before (TS-R1).

    The car checks at discrete moments, so a call may come a little after a limit; the
    slack says how much is tolerated. ``calls`` are in any order.
    """
    ordered = sorted(calls, key=lambda c: (c.at, c.odometer_km))
    return [cur for prev, cur in pairwise(ordered)
            if cur.at - prev.at > CALL_INTERVAL_S + slack_s
            or cur.odometer_km - prev.odometer_km > CALL_INTERVAL_KM + slack_km]
