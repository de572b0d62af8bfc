"""An assistance case as the OEM database holds it, and as the desk's API shows it; pure.

The record keeps what the customer was granted and why (the decision and its reasons),
the call it was decided on, so it can be decided again after the specialist's
assessment, and when it was opened and closed. Its status follows from ``closed_at``;
its retention rule is its tag's (``backend.privacy.retention_tags``), shown beside the
record but never stored in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, Self

from backend.assistance.desk import AssistanceCase, AssistanceService
from backend.assistance.entitlements import EntitlementDecision, Grant, Programme, Service
from backend.infra.hash_record import HashRecord
from protocols.assistance import AssistanceCall, AssistanceKind


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistanceCaseRecord(HashRecord):
    """One stored assistance case (``to_fields`` / ``from_fields``)."""

    request_id: str
    vin: str
    kind: AssistanceKind
    service: AssistanceService
    opened_at: float
    closed_at: float | None = None
    programme: Programme
    valid: bool
    reasons: tuple[str, ...]
    granted: tuple[Grant, ...]
    refused: tuple[Service, ...]
    country: str
    call: AssistanceCall

    @classmethod
    def of_case(cls, case: AssistanceCase) -> Self:
        """The record of a case the desk just decided."""
        decision = case.decision
        return cls(request_id=case.call.request_id, vin=case.call.vin, kind=case.call.kind,
                   service=case.service, opened_at=case.opened_at, closed_at=case.closed_at,
                   programme=decision.programme, valid=decision.valid,
                   reasons=decision.reasons, granted=decision.granted,
                   refused=decision.refused, country=case.incident.country, call=case.call)

    @property
    def status(self) -> Literal["open", "closed"]:
        return "open" if self.closed_at is None else "closed"

    @property
    def decision(self) -> EntitlementDecision:
        return EntitlementDecision(programme=self.programme, valid=self.valid,
                                   reasons=self.reasons, granted=self.granted,
                                   refused=self.refused)

    def view(self, *, retention_rule: str | None) -> dict[str, Any]:
        """What the desk's API shows: the record, its status, and the rule it is kept
        under as its tag says; ``closed_at`` only once it is closed."""
        shown = asdict(self)
        for name in ("reasons", "granted", "refused"):
            shown[name] = list(shown[name])
        if self.closed_at is None:
            del shown["closed_at"]
        return {**shown, "status": self.status, "retention_rule": retention_rule}
