"""Data-volume usage in the OEM database (Redis): metering, per vehicle and fleet-wide.

Keys (OEM database)::

    bud:{vin}              hash  {service}:{up|down}:{period}:bytes / :msgs   this and last period
                                 {service}:total:bytes / :msgs               lifetime totals
                                 {service}:period                             latest period index
                                 {service}:rejected:{reason}                  rejected messages
                                 {service}:flagged:{reason}                   flagged messages
    bud:fleet              hash  the same usage fields summed over every vehicle
    bud:rejected           hash  {service}:{reason} -> rejected messages, fleet-wide
    bud:flagged            hash  {service}:{reason} -> flagged messages, fleet-wide
    bud:vins               set   every VIN metered (rejected-only ones included)
    bud:vins:{service}     set   the VINs that moved accepted bytes of one service
    bud:once:{vin}:{service}:{period}
                           hash  {direction}:{size}:{message id} -> the verdict it got
                                 (used before|action|reason): messages metered once
    bud:refused-once:{vin}:{service}
                           hash  {digest of the bytes} -> 1: refusals counted unread,
                                 once (expires REFUSED_MARK_TTL_S after the latest)

``meter`` runs as one Lua script: it reads the period's usage (up + down), makes the
comparison of ``backend.privacy.budget_meter.Plan`` and either adds the bytes or counts the
rejection, so concurrent messages of one vehicle can never both slip under a bound.

A message given with its id is metered once, however often it is offered: a lane
that waits out a Redis outage runs the whole message again, and the first try may have
been counted before its reply was lost or before a later step of the message failed
(measured: a Teleservice call counted twice across a Redis restart). The script marks
the id in the same step as the count and answers a repeat with the verdict of the first
try, so counting and marking cannot come apart. A message is the same when its id,
direction and size are: another size under the same id is other bytes on the air.

Pruning: only the current and the previous period of each service are kept per vehicle
(and in ``bud:fleet``). When a message opens a new period, the fields of periods older
than the previous one are deleted in the same script. Budgets are judged on the current
period only; the previous one is kept because a just-closed month or year is what an
operator asks about first, and because a message stamped just before the boundary still
lands in its own period. A clock that jumps back (a scenario restarting its virtual
time) restarts the window the same way. So a vehicle holds at most 2 periods × 2
directions × 2 counters per service however long it lives; the lifetime totals carry
the history. The once-marks of a period go with its counts: a repeat can only be
recognised while the count it would double is still held.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, cast

from redis.asyncio import Redis

from backend.privacy.budget_meter import (
    Reason,
    Verdict,
    metering_period_s,
    period_cap,
    period_index,
    plan,
)
from backend.privacy.errors import MeterConsistencyError, UnknownVehicleError
from protocols.catalogue_model import CatalogueEntry

Direction = Literal["up", "down"]
DIRECTIONS: Final[tuple[Direction, ...]] = ("up", "down")
VINS: Final = "bud:vins"
FLEET: Final = "bud:fleet"
REJECTED: Final = "bud:rejected"
FLAGGED: Final = "bud:flagged"
_VIN_RE: Final = re.compile(r"^[0-9A-HJ-NPR-Z]{17}$")  # ISO 3779: no I, O, Q
_SERVICE_RE: Final = re.compile(r"^[a-z0-9_]+$")

# KEYS: 1 bud:{vin}, 2 bud:fleet, 3 bud:rejected, 4 bud:flagged, 5 bud:vins,
#       6 bud:vins:{service}, 7 bud:once:{vin}:{service}:{period}
# ARGV: 1 vin, 2 service, 3 direction, 4 period index, 5 size,
#       6 message action ('' | 'reject' | 'flag'), 7 message reason,
#       8 has period cap ('1' | '0'), 9 period cap, 10 over-cap action, 11 over-cap reason,
#       12 once-mark ('' = no message id), 13 prefix of this vehicle's and service's
#       once-mark keys (the period index follows)
# Returns {used before (bytes, this period, up + down), action, reason}; a repeat of a
# marked message returns what its first try returned and counts nothing.
_METER: Final = """
local svc, dir, p, size = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local mark = ARGV[12]
if mark ~= '' then
  local seen = redis.call('HGET', KEYS[7], mark)
  if seen then
    local used, action, reason = string.match(seen, '^(%d+)|(%a*)|(.*)$')
    return {tonumber(used), action, reason}
  end
end
local function f(d, period, what)
  return svc .. ':' .. d .. ':' .. string.format('%d', period) .. ':' .. what
end
local function roll(key, once_prefix)
  local last = redis.call('HGET', key, svc .. ':period')
  if not last then
    redis.call('HSET', key, svc .. ':period', ARGV[4])
    return
  end
  last = tonumber(last)
  if p > last or p < last - 1 then
    for _, old in ipairs({last - 1, last}) do
      if old ~= p and old ~= p - 1 then
        redis.call('HDEL', key, f('up', old, 'bytes'), f('up', old, 'msgs'),
                   f('down', old, 'bytes'), f('down', old, 'msgs'))
        if once_prefix then
          redis.call('DEL', once_prefix .. string.format('%d', old))
        end
      end
    end
    redis.call('HSET', key, svc .. ':period', ARGV[4])
  end
end
local function add(key)
  roll(key, nil)
  redis.call('HINCRBY', key, f(dir, p, 'bytes'), ARGV[5])
  redis.call('HINCRBY', key, f(dir, p, 'msgs'), 1)
  redis.call('HINCRBY', key, svc .. ':total:bytes', ARGV[5])
  redis.call('HINCRBY', key, svc .. ':total:msgs', 1)
end
roll(KEYS[1], ARGV[13])
local used = tonumber(redis.call('HGET', KEYS[1], f('up', p, 'bytes')) or '0')
           + tonumber(redis.call('HGET', KEYS[1], f('down', p, 'bytes')) or '0')
local action, reason = ARGV[6], ARGV[7]
if action == '' and ARGV[8] == '1' and used + size > tonumber(ARGV[9]) then
  action, reason = ARGV[10], ARGV[11]
end
redis.call('SADD', KEYS[5], ARGV[1])
if action == 'reject' then
  redis.call('HINCRBY', KEYS[3], svc .. ':' .. reason, 1)
  redis.call('HINCRBY', KEYS[1], svc .. ':rejected:' .. reason, 1)
else
  add(KEYS[1])
  add(KEYS[2])
  redis.call('SADD', KEYS[6], ARGV[1])
  if action == 'flag' then
    redis.call('HINCRBY', KEYS[4], svc .. ':' .. reason, 1)
    redis.call('HINCRBY', KEYS[1], svc .. ':flagged:' .. reason, 1)
  end
end
if mark ~= '' then
  redis.call('HSET', KEYS[7], mark, string.format('%d', used) .. '|' .. action .. '|' .. reason)
end
return {used, action, reason}
"""


# KEYS: 1 bud:{vin}, 2 bud:rejected, 3 bud:vins, 4 bud:refused-once:{vin}:{service}
# ARGV: 1 vin, 2 service, 3 reason, 4 digest of the message, 5 mark TTL (s)
# Returns 1 when counted, 0 for a repeat of a message already counted.
_REFUSED: Final = """
if redis.call('HSETNX', KEYS[4], ARGV[4], '1') == 0 then
  return 0
end
redis.call('EXPIRE', KEYS[4], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2] .. ':' .. ARGV[3], 1)
redis.call('HINCRBY', KEYS[1], ARGV[2] .. ':rejected:' .. ARGV[3], 1)
return 1
"""
# A refusal counted unread has no id and no time of its own, so it is recognised by its
# bytes. The mark need only outlive a redelivery or a lane's retry (seconds to minutes of
# real time); a day is ample and keeps the marks from piling up.
REFUSED_MARK_TTL_S: Final = 86_400


def vin_key(vin: str) -> str:
    return f"bud:{vin}"


def service_vins_key(service: str) -> str:
    return f"bud:vins:{service}"


def once_key_prefix(vin: str, service: str) -> str:
    """The once-marks of one vehicle and service; the period index completes the key."""
    return f"bud:once:{vin}:{service}:"


def once_mark(direction: Direction, size: int, message_id: str) -> str:
    """What makes a message the same one: its direction, size and id."""
    return f"{direction}:{size}:{message_id}"


def _check_vin(vin: str) -> str:
    if not _VIN_RE.match(vin):
        raise ValueError(f"vin {vin!r} is not 17 characters of ISO 3779 (no I, O, Q)")
    return vin


def _catalogue() -> tuple[CatalogueEntry, ...]:
    """The catalogue's rows, imported when asked: the table may still be empty at import."""
    from protocols.catalogue import CATALOGUE

    return CATALOGUE


def _entry(key: str) -> CatalogueEntry:
    from protocols.catalogue import entry

    return entry(key)


async def meter(oem: Redis, *, vin: str, service: str, size: int, at: float,
                direction: Direction, entry: CatalogueEntry | None = None,
                message_id: str | None = None) -> Verdict:
    """Count one message of ``size`` bytes of ``service`` for ``vin`` at backend time ``at``.

    ``entry`` is the service's catalogue row (looked up by ``service`` when omitted).
    An accepted or flagged message adds its bytes to this period and the totals; a
    rejected one is counted under its reason and adds nothing. The verdict says which.
    With ``message_id`` (the call's or event's own id) a repeat of the message counts
    nothing and gets the first try's verdict again.
    """
    _check_vin(vin)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r} is not one of {DIRECTIONS}")
    row = entry if entry is not None else _entry(service)
    if row.key != service:
        raise ValueError(f"service {service!r} does not match the entry's key {row.key!r}")
    if not _SERVICE_RE.match(service):
        raise ValueError(f"service {service!r} is not a snake_case catalogue key")
    judged = plan(row, size=size)
    index = period_index(at, metering_period_s(row.budget))
    message, over = judged.message, judged.period
    once = once_key_prefix(vin, service)
    args: list[str | int] = [
        vin, service, direction, index, size,
        "" if message is None else ("reject" if message.rejects else "flag"),
        "" if message is None else message.reason,
        0 if judged.period_cap is None else 1,
        0 if judged.period_cap is None else judged.period_cap,
        "" if over is None else ("reject" if over.rejects else "flag"),
        "" if over is None else over.reason,
        "" if message_id is None else once_mark(direction, size, message_id), once,
    ]
    script = oem.register_script(_METER)
    raw = cast(list[int | bytes], await script(
        keys=[vin_key(vin), FLEET, REJECTED, FLAGGED, VINS, service_vins_key(service),
              f"{once}{index}"],
        args=args))
    used, action = int(raw[0]), _text(raw[1])
    verdict = judged.decide(used)
    if verdict.accepted != (action != "reject") or verdict.flagged != (action == "flag"):
        raise MeterConsistencyError(
            f"{service}: script decided {action!r}, judgement {verdict.explanation}")
    return verdict


async def count_refused(oem: Redis, *, vin: str, service: str, reason: Reason,
                        message: bytes) -> bool:
    """Count a message of ``service`` refused before it could be metered (unread, by its
    decoder, for its size) under ``reason``, so the budget view shows every refusal with
    its bound and rule (docs/requirements.md#plat-r2), not only the meter's own.

    Only the rejection counters move: no bytes, and no period, because the message's own
    time was never read. The same bytes offered again (a redelivery, a retried lane run)
    count once; returns whether this offer was counted."""
    _check_vin(vin)
    if not _SERVICE_RE.match(service):
        raise ValueError(f"service {service!r} is not a snake_case catalogue key")
    digest = hashlib.blake2b(message, digest_size=16).hexdigest()
    script = oem.register_script(_REFUSED)
    counted = await script(
        keys=[vin_key(vin), REJECTED, VINS, f"bud:refused-once:{vin}:{service}"],
        args=[vin, service, reason, digest, REFUSED_MARK_TTL_S])
    return bool(counted)


def _text(value: int | bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceUsage:
    """One service's traffic against its budget, for one vehicle or the whole fleet.

    ``used_*`` count the period that contains the asked time (zero once it has moved
    past the last message); ``previous_bytes`` the period before. ``share_used`` is
    ``used_bytes / period_bytes`` for a vehicle; fleet-wide it is measured against the
    period budget of every vehicle that used the service, i.e. the average vehicle's
    share. Budget fields are None for a service the catalogue does not (or no longer)
    holds, or one without a stated figure.
    """

    key: str
    service: str
    sub_function: str
    safety: bool
    per: str | None
    per_message_bytes: int | None
    period_bytes: int | None
    exclusive: bool
    approx: bool
    wording: str
    period_index: int
    period_start: float | None
    period_end: float | None
    used_bytes: int
    used_msgs: int
    up_bytes: int
    up_msgs: int
    down_bytes: int
    down_msgs: int
    previous_bytes: int
    total_bytes: int
    total_msgs: int
    share_used: float | None
    rejected: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    vehicles: int | None = None


def _budget_rows(catalogue: Sequence[CatalogueEntry] | None) -> dict[str, CatalogueEntry]:
    rows = _catalogue() if catalogue is None else catalogue
    return {e.key: e for e in rows}


def _decode(raw: dict[bytes, bytes]) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in raw.items()}


def _services_in(fields: dict[str, int]) -> set[str]:
    return {name.split(":", 1)[0] for name in fields}


def _usage_of(key: str, row: CatalogueEntry | None, fields: dict[str, int], *, at: float,
              rejected: dict[str, int], flagged: dict[str, int],
              vehicles: int | None) -> ServiceUsage:
    budget = row.budget if row is not None else None
    period_s = metering_period_s(budget)
    index = period_index(at, period_s)

    def count(direction: str, period: int, what: str) -> int:
        return fields.get(f"{key}:{direction}:{period}:{what}", 0)

    up_b, down_b = count("up", index, "bytes"), count("down", index, "bytes")
    up_m, down_m = count("up", index, "msgs"), count("down", index, "msgs")
    used = up_b + down_b
    limit = budget.period_bytes if budget is not None and period_cap(budget) is not None \
        else None
    share = None if not limit else used / (limit * max(1, vehicles or 1))
    previous = 0 if period_s is None else \
        count("up", index - 1, "bytes") + count("down", index - 1, "bytes")
    return ServiceUsage(
        key=key, service=row.service if row else "", sub_function=row.sub_function if row else "",
        safety=row.safety if row else False, per=budget.per if budget else None,
        per_message_bytes=budget.per_message_bytes if budget else None,
        period_bytes=budget.period_bytes if budget else None,
        exclusive=budget.exclusive if budget else False,
        approx=budget.approx if budget else False, wording=budget.wording if budget else "",
        period_index=index,
        period_start=None if period_s is None else index * period_s,
        period_end=None if period_s is None else (index + 1) * period_s,
        used_bytes=used, used_msgs=up_m + down_m, up_bytes=up_b, up_msgs=up_m,
        down_bytes=down_b, down_msgs=down_m, previous_bytes=previous,
        total_bytes=fields.get(f"{key}:total:bytes", 0),
        total_msgs=fields.get(f"{key}:total:msgs", 0), share_used=share,
        rejected=rejected, flagged=flagged, vehicles=vehicles)


def _by_service(fields: dict[str, int], *, prefix: str = "") -> dict[str, dict[str, int]]:
    """``{service}:{prefix}{reason}`` counters grouped per service."""
    grouped: dict[str, dict[str, int]] = {}
    for name, value in fields.items():
        service, _, rest = name.partition(":")
        if prefix and not rest.startswith(prefix):
            continue
        grouped.setdefault(service, {})[rest.removeprefix(prefix)] = value
    return grouped


async def known_vins(oem: Redis) -> list[str]:
    """Every VIN the meter has seen, sorted."""
    members = cast(set[bytes], await oem.smembers(VINS))
    return sorted(m.decode() for m in members)


async def usage(oem: Redis, vin: str, *, at: float,
                catalogue: Sequence[CatalogueEntry] | None = None) -> dict[str, ServiceUsage]:
    """A vehicle's usage per service at time ``at``: every budgeted entry, plus any other
    service it moved bytes of, ordered by key. Unknown VINs are ``UnknownVehicleError``.
    """
    _check_vin(vin)
    if not await oem.sismember(VINS, vin):
        raise UnknownVehicleError(f"vin {vin!r}: no message of this vehicle was metered",
                                  vin=vin)
    fields = _decode(cast(dict[bytes, bytes], await oem.hgetall(vin_key(vin))))
    rows = _budget_rows(catalogue)
    rejected = _by_service(fields, prefix="rejected:")
    flagged = _by_service(fields, prefix="flagged:")
    keys = {k for k, e in rows.items() if e.budget is not None} | _services_in(fields)
    return {k: _usage_of(k, rows.get(k), fields, at=at, rejected=rejected.get(k, {}),
                         flagged=flagged.get(k, {}), vehicles=None) for k in sorted(keys)}


async def summary(oem: Redis, *, at: float,
                  catalogue: Sequence[CatalogueEntry] | None = None) -> dict[str, ServiceUsage]:
    """Fleet-wide usage per service at time ``at``, with the vehicles that used each."""
    fields = _decode(cast(dict[bytes, bytes], await oem.hgetall(FLEET)))
    rejected = _by_service(_decode(cast(dict[bytes, bytes], await oem.hgetall(REJECTED))))
    flagged = _by_service(_decode(cast(dict[bytes, bytes], await oem.hgetall(FLAGGED))))
    rows = _budget_rows(catalogue)
    keys = sorted({k for k, e in rows.items() if e.budget is not None}
                  | _services_in(fields) | set(rejected) | set(flagged))
    result = {}
    for k in keys:
        vehicles = int(await oem.scard(service_vins_key(k)))
        result[k] = _usage_of(k, rows.get(k), fields, at=at,
                              rejected=rejected.get(k, {}), flagged=flagged.get(k, {}),
                              vehicles=vehicles)
    return result


async def vehicle_count(oem: Redis) -> int:
    """How many VINs the meter has seen."""
    return int(await oem.scard(VINS))
