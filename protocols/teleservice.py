"""Repair & Maintenance messages of the wire contract (MINI Connected §16;
docs/requirements.md#teleservice and #partners).

Three messages travel for Repair & Maintenance:

* ``TeleserviceCall`` (car → backend): §16a sends vehicle state "regularly every 28 days
  or every 1,000 km" and "for every service or maintenance request", at most 50 KB each
  (TS-R1; teleservice_call).
* ``SmartMaintenanceTransfer`` (car → backend): §16b, the opt-in add-on with "more
  frequent transfer, e.g. after every trip or once a week" under the same 50 KB sentence
  (TS-R3, TS-R2, smart_maintenance). It carries the same findings as a call, so a need
  is "found sooner", plus the raw readings behind them.
* ``WorkshopMapUpdate`` (backend → car): workshop map data, "about six times a year or
  as needed, ≈ 200 KB" (SP-R2, workshop_map).

Every field is a plain type, so ``msgpack.packb(dataclasses.asdict(x), use_bin_type=True)``
packs a message as it stands; the size rules are checked on exactly those bytes.
Condition-based service (CBS) status is part of the contract (``item_status``), so the
car and the backend agree on what "due" means.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, get_args

import msgpack

from protocols.envelope import MAX_ENVELOPE
from protocols.errors import EnvelopeError
from protocols.record_codec import check_epoch_seconds
from protocols.size_bounds import SizeBound, check_within, within

# MINI Connected §16a volume (TS-R2): "max 50 KB per service or maintenance request";
# §16b shares it.
TELESERVICE_MAX_BYTES: Final = 50_000
TELESERVICE_RULE: Final = "at most 50 KB (MINI Connected §16a, TS-R2)"
# "maximaal 50 KB": inclusive, read as ``protocols.size_bounds`` reads every bound.
TELESERVICE_BOUND: Final = SizeBound(TELESERVICE_MAX_BYTES, exclusive=False,
                                     rule=TELESERVICE_RULE)
# MINI Connected §16a (SP-R2): "workshop map data updated about six times a year ... ≈ 200 KB".
WORKSHOP_MAP_BYTES: Final = 200_000
WORKSHOP_MAP_PER_YEAR: Final = 6
# A map update must still fit one envelope, or the receiver refuses it unread.
WORKSHOP_MAP_MAX_BYTES: Final = MAX_ENVELOPE
WORKSHOP_MAP_BOUND: Final = SizeBound(
    WORKSHOP_MAP_MAX_BYTES, exclusive=False,
    rule=f"at most {WORKSHOP_MAP_MAX_BYTES} bytes (envelope limit)")
# CBS warns ahead of the due point; the backend treats an item within these margins as a
# maintenance need (issue: "an item is due within 30 days / 1,500 km").
DUE_SOON_DAYS: Final = 30.0
DUE_SOON_KM: Final = 1_500.0

CallReason = Literal["interval_28d", "distance_1000km", "service_need"]
SmartTrigger = Literal["trip", "weekly"]
ItemStatus = Literal["ok", "due", "overdue"]
# Petrol and diesel split because the Service Inclusive scope lists do
# (TS-R7: "fuel filter (diesel)", "spark plugs (petrol)").
Propulsion = Literal["petrol", "diesel", "bev", "phev_petrol", "phev_diesel"]

CALL_REASONS: Final[tuple[CallReason, ...]] = get_args(CallReason)
SMART_TRIGGERS: Final[tuple[SmartTrigger, ...]] = get_args(SmartTrigger)
ITEM_STATUSES: Final[tuple[ItemStatus, ...]] = get_args(ItemStatus)
PROPULSIONS: Final[tuple[Propulsion, ...]] = get_args(Propulsion)


def item_status(due_km: float, due_days: float) -> ItemStatus:
    """CBS colour of one item: overdue past either limit, due within either margin."""
    if due_km <= 0 or due_days <= 0:
        return "overdue"
    if due_km <= DUE_SOON_KM or due_days <= DUE_SOON_DAYS:
        return "due"
    return "ok"


def _require(ok: bool, message: str, *, where: str, rule: str) -> None:
    if not ok:
        raise EnvelopeError(message, field=where, rule=rule)


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """One condition-based service item: how far (km) and how long (days) until it is due.

    Claims need CBS to show the service is due (TS-R7), so the
    call carries the remaining distance and time, not just a flag.
    """

    item: str
    due_km: float
    due_days: float
    status: ItemStatus

    def __post_init__(self) -> None:
        _require(bool(self.item) and len(self.item) <= 64, "item name must be 1..64 chars",
                 where="service_items.item", rule="1..64 chars")
        _require(math.isfinite(self.due_km) and math.isfinite(self.due_days),
                 "remaining distance and time must be finite", where="service_items.due",
                 rule="finite numbers")
        _require(self.status in ITEM_STATUSES, f"unknown status {self.status!r}",
                 where="service_items.status", rule="|".join(ITEM_STATUSES))


def _check_common(vin: str, message_id: str, id_name: str, odometer_km: float,
                  at: float) -> None:
    _require(len(vin) == 17, f"invalid VIN {vin!r}", where="vin", rule="17 chars of ISO 3779")
    _require(0 < len(message_id) <= 64, f"{id_name} must be 1..64 chars", where=id_name,
             rule="1..64 chars")
    _require(math.isfinite(odometer_km) and odometer_km >= 0,
             f"odometer {odometer_km} km", where="odometer_km", rule=">= 0 km")
    check_epoch_seconds(at, field="at")


@dataclass(frozen=True, slots=True)
class TeleserviceCall:
    """One Teleservice Call; ``at`` is the car's (virtual) clock in epoch seconds.

    ``sent_ns`` is the sender's wall clock at publication, as in every envelope, so the
    receiver can measure latency. The car keeps only "the date of the last call"
    (§16a "In vehicle", TS-R2); the backend keeps the rest.
    """

    vin: str
    call_id: str
    reason: CallReason
    odometer_km: float
    sent_ns: int
    at: float
    propulsion: Propulsion
    fault_codes: list[str] = field(default_factory=list)
    service_items: list[ServiceItem] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_common(self.vin, self.call_id, "call_id", self.odometer_km, self.at)
        _require(self.reason in CALL_REASONS, f"unknown reason {self.reason!r}",
                 where="reason", rule="|".join(CALL_REASONS))
        _require(self.propulsion in PROPULSIONS, f"unknown propulsion {self.propulsion!r}",
                 where="propulsion", rule="|".join(PROPULSIONS))


@dataclass(frozen=True, slots=True)
class SmartMaintenanceTransfer:
    """One Smart Maintenance transfer (§16b): after a trip or weekly, opt-in only."""

    vin: str
    transfer_id: str
    trigger: SmartTrigger
    odometer_km: float
    at: float
    sent_ns: int
    readings: dict[str, float] = field(default_factory=dict)
    fault_codes: list[str] = field(default_factory=list)
    service_items: list[ServiceItem] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_common(self.vin, self.transfer_id, "transfer_id", self.odometer_km, self.at)
        _require(self.trigger in SMART_TRIGGERS, f"unknown trigger {self.trigger!r}",
                 where="trigger", rule="|".join(SMART_TRIGGERS))


@dataclass(frozen=True, slots=True)
class WorkshopMapUpdate:
    """Workshop map data sent down to the car (§16a volume, SP-R2).

    The car uses it to tell a workshop stay from a breakdown, so a stay "suppresses
    wrong service notices" (§16, SP-R2).
    """

    version: int
    partner_count: int
    data: bytes

    def __post_init__(self) -> None:
        _require(self.version >= 1, f"version {self.version}", where="version", rule=">= 1")
        _require(self.partner_count >= 0, f"partner_count {self.partner_count}",
                 where="partner_count", rule=">= 0")


RmUplink = TeleserviceCall | SmartMaintenanceTransfer


def packed(message: RmUplink | WorkshopMapUpdate) -> bytes:
    """The message as it goes over the wire: its fields as one msgpack map."""
    data: bytes = msgpack.packb(asdict(message), use_bin_type=True)
    return data


def _validate_uplink(message: RmUplink, where: str) -> bytes:
    data = packed(message)
    check_within(TELESERVICE_BOUND, len(data), field=where)
    return data


def validate_call(call: TeleserviceCall) -> bytes:
    """Packed bytes of a call, refused above the §16a 50 KB per request."""
    return _validate_uplink(call, "teleservice_call")


def validate_smart_transfer(transfer: SmartMaintenanceTransfer) -> bytes:
    """Packed bytes of a Smart Maintenance transfer, under the shared 50 KB (§16b)."""
    return _validate_uplink(transfer, "smart_maintenance")


def validate_workshop_map(update: WorkshopMapUpdate) -> bytes:
    """Packed bytes of a map update: it must fit one envelope to be read at all."""
    data = packed(update)
    check_within(WORKSHOP_MAP_BOUND, len(data), field="workshop_map")
    return data


def _load(data: bytes, where: str, bound: SizeBound) -> dict[str, Any]:
    _require(within(bound, len(data)), f"{where} is {len(data)} bytes", where=where,
             rule=bound.rule)
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types
        raise EnvelopeError(f"not msgpack: {exc}", field=where, rule="msgpack map") from None
    _require(isinstance(body, dict), "not a map", where=where, rule="msgpack map")
    result: dict[str, Any] = body
    return result


def _items(raw: Any) -> list[ServiceItem]:
    _require(isinstance(raw, list), "not a list", where="service_items", rule="list of maps")
    try:
        return [ServiceItem(**entry) for entry in raw]
    except TypeError as exc:
        raise EnvelopeError(str(exc), field="service_items", rule="item, due_km, due_days, "
                            "status") from None


def _build(cls: type[Any], body: dict[str, Any], where: str) -> Any:
    if "service_items" in body:
        body["service_items"] = _items(body["service_items"])
    try:
        return cls(**body)
    except TypeError as exc:
        raise EnvelopeError(str(exc), field=where, rule="contract fields only") from None


def unpack_call(data: bytes) -> TeleserviceCall:
    """Read a call; oversized or malformed bytes raise EnvelopeError naming the field."""
    body = _load(data, "teleservice_call", TELESERVICE_BOUND)
    call: TeleserviceCall = _build(TeleserviceCall, body, "teleservice_call")
    return call


def unpack_smart_transfer(data: bytes) -> SmartMaintenanceTransfer:
    """Read a Smart Maintenance transfer under the same rules as a call."""
    body = _load(data, "smart_maintenance", TELESERVICE_BOUND)
    transfer: SmartMaintenanceTransfer = _build(SmartMaintenanceTransfer, body,
                                                "smart_maintenance")
    return transfer


def unpack_workshop_map(data: bytes) -> WorkshopMapUpdate:
    """Read a workshop map update."""
    body = _load(data, "workshop_map", WORKSHOP_MAP_BOUND)
    update: WorkshopMapUpdate = _build(WorkshopMapUpdate, body, "workshop_map")
    return update
