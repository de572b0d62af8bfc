"""OTA campaigns: which cars get an update, in which group, and how far each got, pure.

MINI Connected §15 (docs/requirements.md#ota-r1): a Remote Software Upgrade is 1 to
10 GB per download and the size is part of the update information shown to
the customer; the car needs at least OS 9; every installation is
started by hand, in the car or from the app (OTA-R2), so a car may wait for its driver
for days, or be refused. The rollout copies hawkBit's groups with success and error
thresholds and AWS IoT Jobs' in-progress timeout (docs/requirements.md#ota-r7), so
that no car stays "in progress" for ever (the gap of hawkBit issue #693).

A campaign::

    planned ─start─▶ running ◀─resume─ paused ◀─pause / error threshold─ running
    running ─every group released, every car final─▶ finished
    planned | running | paused ─cancel─▶ cancelled

A car in it::

    pending ─offer─▶ offered ▶ downloading ▶ awaiting_confirmation ▶ installing ▶ done
    offered .. installing ──▶ failed | refused | timed_out;  pending .. awaiting ─▶ cancelled

Final states are never left: a late or repeated report from the car is ignored, as is
one that goes backwards, because MQTT delivers at least once and not always in order.
Time comes in as ``now``; the caller performs the returned actions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal, get_args

from backend.ota.errors import CampaignSpecError, CampaignTransitionError

CampaignStatus = Literal["planned", "running", "paused", "cancelled", "finished"]
VehicleStatus = Literal["pending", "offered", "downloading", "awaiting_confirmation",
                        "installing", "done", "failed", "refused", "timed_out", "cancelled"]
VehicleReport = Literal["downloading", "awaiting_confirmation", "installing", "done",
                        "failed", "refused"]
VEHICLE_STATUSES: Final[tuple[VehicleStatus, ...]] = get_args(VehicleStatus)
VEHICLE_REPORTS: Final[tuple[VehicleReport, ...]] = get_args(VehicleReport)
ACTIVE: Final[tuple[VehicleStatus, ...]] = (
    "offered", "downloading", "awaiting_confirmation", "installing")  # in order of progress
FINAL: Final[frozenset[VehicleStatus]] = frozenset(
    {"done", "failed", "refused", "timed_out", "cancelled"})
FAILURES: Final[frozenset[VehicleStatus]] = frozenset({"failed", "timed_out"})
MIN_SIZE_BYTES: Final = 1_000_000_000  # OTA-R1: "1 tot 10 GB"
MAX_SIZE_BYTES: Final = 10_000_000_000
MIN_OS: Final = 9  # OTA-R1: "at least OS 9"
MIN_ACTION_TIMEOUT_S: Final = 60.0  # AWS IoT Jobs inProgressTimeout: 1 min .. 7 days
MAX_ACTION_TIMEOUT_S: Final = 7 * 86_400.0
_CODE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
_EPS: Final = 1e-9


def _require(ok: bool, message: str, *, field: str, rule: str) -> None:
    if not ok:
        raise CampaignSpecError(message, field=field, rule=rule)


@dataclass(frozen=True, slots=True)
class VehicleFacts:
    """What targeting may look at; the registry supplies it when a campaign is planned."""

    vin: str
    model: str
    propulsion: str
    os_version: int
    country: str


@dataclass(frozen=True, slots=True)
class TargetSelector:
    """Every criterion given must hold; an empty one does not restrict."""

    models: tuple[str, ...] = ()
    propulsions: tuple[str, ...] = ()
    min_os: int | None = None
    max_os: int | None = None
    countries: tuple[str, ...] = ()
    vins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require(self.min_os is None or self.max_os is None or self.min_os <= self.max_os,
                 f"min_os {self.min_os} > max_os {self.max_os}", field="target.min_os",
                 rule="min_os <= max_os")

    def matches(self, vehicle: VehicleFacts) -> bool:
        """Whether the car is targeted; below OS 9 it never is (OTA-R1)."""
        return (vehicle.os_version >= MIN_OS
                and (not self.models or vehicle.model in self.models)
                and (not self.propulsions or vehicle.propulsion in self.propulsions)
                and (self.min_os is None or vehicle.os_version >= self.min_os)
                and (self.max_os is None or vehicle.os_version <= self.max_os)
                and (not self.countries or vehicle.country in self.countries)
                and (not self.vins or vehicle.vin in self.vins))


@dataclass(frozen=True, slots=True)
class RolloutGroup:
    """A wave of the rollout: a share of the targeted cars, or a fixed number of them.

    The next group starts when ``success_threshold`` of this one is done; the campaign
    pauses when ``error_threshold`` of it failed or timed out (hawkBit's NEXTGROUP and
    PAUSE actions). Refusals are the customer's choice, not errors (hawkBit: WARNING).
    """

    name: str
    share: float | None = None
    size: int | None = None
    success_threshold: float = 1.0
    error_threshold: float = 0.0

    def __post_init__(self) -> None:
        where = f"groups[{self.name!r}]"
        _require(bool(self.name), "a group needs a name", field="groups.name", rule="non-empty")
        _require((self.share is None) != (self.size is None), f"{where}: give share or size",
                 field=f"{where}.share", rule="exactly one of share and size")
        _require((self.share is None or 0.0 < self.share <= 1.0)
                 and (self.size is None or self.size >= 1),
                 f"{where}: share {self.share}, size {self.size}", field=f"{where}.share",
                 rule="0 < share <= 1, size >= 1")
        for name in ("success_threshold", "error_threshold"):
            _require(0.0 <= getattr(self, name) <= 1.0, f"{where}: {name} out of range",
                     field=f"{where}.{name}", rule="0 <= threshold <= 1")


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """What the operator asked for. ``critical`` marks a security update that may be
    installed regardless of the customer's update settings (MINI Connected art. 3.8, OTA-R2)."""

    campaign_id: str
    version: str
    size_bytes: int
    target: TargetSelector
    groups: tuple[RolloutGroup, ...]
    action_timeout_s: float
    critical: bool = False

    def __post_init__(self) -> None:
        for name in ("campaign_id", "version"):
            _require(bool(getattr(self, name)), f"no {name}", field=name, rule="non-empty")
        _require(MIN_SIZE_BYTES <= self.size_bytes <= MAX_SIZE_BYTES,
                 f"size {self.size_bytes} bytes is outside 1..10 GB", field="size_bytes",
                 rule="1 GB <= size <= 10 GB (OTA-R1)")
        _require(bool(self.groups), "a campaign needs a group", field="groups",
                 rule="at least one group")
        names = [g.name for g in self.groups]
        _require(len(set(names)) == len(names), f"group names repeat: {names}",
                 field="groups.name", rule="unique group names")
        shares = sum(g.share or 0.0 for g in self.groups)
        _require(shares <= 1.0 + _EPS, f"group shares add up to {shares}", field="groups.share",
                 rule="shares add up to at most 1")
        _require(MIN_ACTION_TIMEOUT_S <= self.action_timeout_s <= MAX_ACTION_TIMEOUT_S,
                 f"action timeout {self.action_timeout_s}s", field="action_timeout_s",
                 rule="60 s <= timeout <= 7 days")


@dataclass(frozen=True, slots=True)
class VehicleProgress:
    """One car in a campaign: its group (index), status, last reason code and time."""

    vin: str
    group: int
    status: VehicleStatus = "pending"
    reason: str = ""
    updated_at: float | None = None


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """What the operator saw when resuming ``group``: those failures, and whether the
    group was already complete, no longer pause the campaign."""

    group: int
    failures: int
    complete: bool


@dataclass(frozen=True, slots=True)
class Campaign:
    """A planned campaign and where it stands; ``group`` == len(members) once all are out."""

    spec: CampaignSpec
    members: tuple[tuple[str, ...], ...]
    vehicles: Mapping[str, VehicleProgress]
    status: CampaignStatus = "planned"
    group: int = 0
    paused_reason: str = ""
    acknowledged: Acknowledged | None = None
    updated_at: float | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    """Offer the update to these cars (the update information comes from the spec)."""

    vins: tuple[str, ...]
    group: str


@dataclass(frozen=True, slots=True)
class CancelOffer:
    """Withdraw the offer from cars that have not started installing."""

    vins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Paused:
    """The campaign paused: ``error_threshold``, ``success_unreachable`` or the operator's."""

    reason: str
    group: str


@dataclass(frozen=True, slots=True)
class Finished:
    """Every group was released and every car reached a final state."""

    campaign_id: str


Action = Offer | CancelOffer | Paused | Finished


def _bounds(groups: Sequence[RolloutGroup], n: int) -> list[int]:
    """End index of each group in the VIN-sorted list; the last group takes the rest.

    Quotas add up as floats and round up, so a small pilot share is never empty and
    rounding does not drift from group to group.
    """
    ends, quota = [], 0.0
    for group in groups[:-1]:
        quota += group.size if group.size is not None else (group.share or 0.0) * n
        ends.append(min(n, math.ceil(quota - _EPS)))
    return [*ends, n]


def plan(spec: CampaignSpec, fleet: Sequence[VehicleFacts]) -> Campaign:
    """Select the targeted cars and split them, sorted by VIN, over the groups."""
    vins = [v.vin for v in fleet]
    _require(len(set(vins)) == len(vins), "the fleet lists a VIN twice", field="fleet",
             rule="one entry per VIN")
    targeted = sorted(v.vin for v in fleet if spec.target.matches(v))
    members, start = [], 0
    for end in _bounds(spec.groups, len(targeted)):
        members.append(tuple(targeted[start:end]))
        start = max(start, end)
    vehicles = {vin: VehicleProgress(vin, index)
                for index, group in enumerate(members) for vin in group}
    return Campaign(spec, tuple(members), vehicles)


def _moved(c: Campaign, changes: Mapping[str, VehicleProgress], now: float, **fields: object
           ) -> Campaign:
    vehicles = {**c.vehicles, **changes} if changes else c.vehicles
    return replace(c, vehicles=vehicles, updated_at=now, **fields)  # type: ignore[arg-type]


def _tally(c: Campaign, group: int) -> tuple[int, int, bool]:
    """Successes, failures, and whether every car of the group is final."""
    statuses = [c.vehicles[vin].status for vin in c.members[group]]
    return (statuses.count("done"), sum(s in FAILURES for s in statuses),
            all(s in FINAL for s in statuses))


def _release(c: Campaign, group: int, now: float) -> tuple[Campaign, list[Action]]:
    if group >= len(c.members):
        return replace(c, group=group), []
    vins = tuple(vin for vin in c.members[group] if c.vehicles[vin].status == "pending")
    changes = {vin: replace(c.vehicles[vin], status="offered", updated_at=now) for vin in vins}
    actions: list[Action] = [Offer(vins, c.spec.groups[group].name)] if vins else []
    return _moved(c, changes, now, group=group), actions


def _evaluate(c: Campaign, now: float) -> tuple[Campaign, list[Action]]:
    """Apply the thresholds of the current group until nothing more follows."""
    actions: list[Action] = []
    while c.status == "running":
        if c.group >= len(c.members):
            if all(v.status in FINAL for v in c.vehicles.values()):
                c = _moved(c, {}, now, status="finished")
                actions.append(Finished(c.spec.campaign_id))
            break
        rule = c.spec.groups[c.group]
        size = len(c.members[c.group])
        successes, failures, complete = _tally(c, c.group)
        ack = c.acknowledged if c.acknowledged and c.acknowledged.group == c.group else None
        if size and failures > (ack.failures if ack else 0) \
                and failures / size >= rule.error_threshold - _EPS:
            reason = "error_threshold"
        elif not size or successes / size >= rule.success_threshold - _EPS \
                or (complete and ack is not None and ack.complete):
            c, offered = _release(c, c.group + 1, now)
            actions.extend(offered)
            continue
        elif complete:
            reason = "success_unreachable"
        else:
            break
        c = _moved(c, {}, now, status="paused", paused_reason=reason)
        actions.append(Paused(reason, rule.name))
    return c, actions


def _refuse(c: Campaign, rule: str, message: str, vin: str = "") -> CampaignTransitionError:
    return CampaignTransitionError(f"campaign {c.spec.campaign_id!r}: {message}",
                                   campaign_id=c.spec.campaign_id, rule=rule, vin=vin)


def start(c: Campaign, *, now: float) -> tuple[Campaign, list[Action]]:
    """Offer the first group; empty groups pass at once."""
    if c.status != "planned":
        raise _refuse(c, "start only from planned", f"is {c.status}; it cannot start again")
    c, actions = _release(replace(c, status="running"), 0, now)
    c, more = _evaluate(c, now)
    return c, actions + more


def on_vehicle_event(c: Campaign, vin: str, state: VehicleReport, *, reason: str = "",
                     now: float) -> tuple[Campaign, list[Action]]:
    """Record what a car reported, then apply the thresholds.

    ``reason`` is a snake_case code; a failure or refusal without one is "unspecified".
    """
    current = c.vehicles.get(vin)
    if current is None:
        raise _refuse(c, "vin in the campaign", f"{vin} is not targeted", vin)
    if state not in VEHICLE_REPORTS:
        raise _refuse(c, "|".join(VEHICLE_REPORTS), f"{vin} reported {state!r}", vin)
    if reason and not _CODE.fullmatch(reason):
        raise _refuse(c, "reason is a snake_case code", f"{vin} gave reason {reason!r}", vin)
    if current.status == "pending":
        raise _refuse(c, "a car reports only after an offer", f"{vin} was not offered", vin)
    if current.status in FINAL:
        return c, []
    if state in ACTIVE and ACTIVE.index(state) < ACTIVE.index(current.status):
        return c, []
    if state in ("failed", "refused") and not reason:
        reason = "unspecified"
    c = _moved(c, {vin: replace(current, status=state, reason=reason, updated_at=now)}, now)
    return _evaluate(c, now)


def tick(c: Campaign, *, now: float) -> tuple[Campaign, list[Action]]:
    """Time out cars whose last report is older than the action timeout.

    The clock restarts with every report, so a slow download that keeps reporting is
    not cut off; a silent one is. An offer that timed out before installing is withdrawn.
    """
    if c.status in ("planned", "finished"):
        return c, []
    limit = c.spec.action_timeout_s
    stuck = [v for v in c.vehicles.values() if v.status in ACTIVE
             and v.updated_at is not None and now - v.updated_at >= limit]
    if not stuck:
        return c, []
    changes = {v.vin: replace(v, status="timed_out", reason="timeout", updated_at=now)
               for v in stuck}
    withdrawn = tuple(sorted(v.vin for v in stuck if v.status != "installing"))
    c, actions = _evaluate(_moved(c, changes, now), now)
    return c, ([CancelOffer(withdrawn)] if withdrawn else []) + actions


def pause(c: Campaign, *, now: float, reason: str = "operator") -> tuple[Campaign, list[Action]]:
    """Stop releasing groups; cars already offered carry on, as in hawkBit."""
    if c.status != "running":
        raise _refuse(c, "pause only from running", f"is {c.status}; it cannot pause")
    group = c.spec.groups[min(c.group, len(c.members) - 1)].name
    return _moved(c, {}, now, status="paused", paused_reason=reason), [Paused(reason, group)]


def resume(c: Campaign, *, now: float) -> tuple[Campaign, list[Action]]:
    """Continue the current group; failures seen so far no longer pause it."""
    if c.status != "paused":
        raise _refuse(c, "resume only from paused", f"is {c.status}; it cannot resume")
    ack = None
    if c.group < len(c.members):
        _, failures, complete = _tally(c, c.group)
        ack = Acknowledged(c.group, failures, complete)
    return _evaluate(_moved(c, {}, now, status="running", paused_reason="", acknowledged=ack),
                     now)


def cancel(c: Campaign, *, now: float) -> tuple[Campaign, list[Action]]:
    """Stop the campaign; cars already installing finish, since a car cannot be used
    during installation (OTA-R3) and breaking it off would leave it half-flashed."""
    if c.status in ("cancelled", "finished"):
        raise _refuse(c, "cancel only an unfinished campaign", f"is already {c.status}")
    stopped = [v for v in c.vehicles.values() if v.status in
               ("pending", "offered", "downloading", "awaiting_confirmation")]
    changes = {v.vin: replace(v, status="cancelled", reason="campaign_cancelled",
                              updated_at=now) for v in stopped}
    withdrawn = tuple(sorted(v.vin for v in stopped if v.status != "pending"))
    c = _moved(c, changes, now, status="cancelled", paused_reason="")
    return c, [CancelOffer(withdrawn)] if withdrawn else []


def progress(c: Campaign) -> dict[str, object]:
    """Counts per status, per group, and the reason codes of cars that did not succeed."""
    def counts(vins: Sequence[str]) -> dict[str, int]:
        seen = Counter(c.vehicles[vin].status for vin in vins)
        return {status: seen[status] for status in VEHICLE_STATUSES}

    groups = []
    for index, (rule, vins) in enumerate(zip(c.spec.groups, c.members, strict=True)):
        successes, failures, complete = _tally(c, index)
        groups.append({"name": rule.name, "size": len(vins), "released": index <= c.group
                       and c.status != "planned", "complete": complete,
                       "successes": successes, "failures": failures,
                       "success_threshold": rule.success_threshold,
                       "error_threshold": rule.error_threshold, "counts": counts(vins)})
    reasons = Counter(v.reason for v in c.vehicles.values()
                      if v.status in ("failed", "refused", "timed_out"))
    current = c.spec.groups[c.group].name if c.group < len(c.members) else None
    return {"campaign_id": c.spec.campaign_id, "version": c.spec.version,
            "size_bytes": c.spec.size_bytes, "critical": c.spec.critical,
            "status": c.status, "paused_reason": c.paused_reason, "current_group": current,
            "vehicles": len(c.vehicles), "counts": counts(list(c.vehicles)),
            "groups": groups, "reasons": dict(sorted(reasons.items()))}
