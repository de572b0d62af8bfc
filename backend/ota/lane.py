"""The backend side of OTA campaigns: the car's events in, offers and withdrawals out.

``OtaDesk`` is what the services lane and the API share. It records every state change
a car reports (``OtaEvent``, one per change of its update machine), feeds it to the
campaign it belongs to (``backend.ota.campaign`` through ``backend.ota.store``, under
WATCH), and performs what the campaign decides: an ``OtaOffer`` to each car of a group
that starts, an ``OtaCommand(cancel, by=backend)`` to each car whose offer is withdrawn.
Every installation still needs the customer's confirmation in the car or from the app
(MINI Connected §15 and art. 4.8, docs/requirements.md#ota-r2); the backend never sends
``confirm`` on its own.

Keys (OEM database), tagged under the catalogue's ``rsu`` (rule ``vehicle_lifetime``)
because OTA results are vehicle maintenance information kept for the car's lifetime
(§15, OTA-R6); the records are ``backend.ota.car_history``'s::

    ota:{vin}:events                     list  the car's events as JSON, latest handled
                                               first, capped at 1,000 (kind "event")
    ota:{vin}:sent                       list  offers and commands sent to the car, latest
                                               first, capped at 1,000 (kind offer|command)
    ota:{vin}:state                      hash  the car's latest reported OTA state
                                               (``EventRecord``)
    ota:campaign:{id}:release-notes      str   release notes sent with every offer

The car's phase maps onto the campaign's per-vehicle report (``report_of``)::

    notified                          -> ignored (the campaign already has "offered")
    downloading                       -> downloading (reason download_interrupted kept)
    downloaded, awaiting_confirmation -> awaiting_confirmation
    refused (os_too_old, battery_low, -> awaiting_confirmation + the reason: the car
      not_parked)                        offers it again later (art. 4.7, OTA-R4)
    waiting_ecall                     -> downloading if bytes remain, else
                                         awaiting_confirmation; reason ecall_active
    installing                        -> installing
    done                              -> done
    failed                            -> failed + the car's reason
    rolled_back                       -> failed + "{reason}_rolled_back", so an operator
                                         tells a car back on its old version from one
                                         that may need the roadside assistance of AS-R5
    idle + cancelled | service_switched_off -> refused + that reason (the customer's
                                         choice, not an error: hawkBit's WARNING)

Campaign transitions are stamped with the backend clock (the scenario's virtual clock
when one is announced), not the car's ``at``: the action timeout (AWS IoT Jobs'
``inProgressTimeout``, OTA-R7, against hawkBit issue #693) must be
judged on one clock for every car.

An event of a campaign that does not exist, of a car it does not target, or of another
version stays in the car's history and is counted ``ota_event_unmatched``; a redelivery
of the last stored event (same ``sent_ns``) is stored once (``ota_event_duplicate``).
Counters (``metrics:ingest``): ``ota_event``, ``ota_offer_sent``, ``ota_cancel_sent``,
``ota_confirm_sent`` .., ``ota_campaign_paused``, ``ota_campaign_finished``,
``ota_tick_error``.

Actions are performed after the campaign is stored. A crash in between loses the
offer or the withdrawal but not the campaign's record of it; the action timeout then
ends that car's attempt, so nothing stays "in progress" for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from backend.errors import BackendError
from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.errors import RecordFieldError
from backend.ota.campaign import (
    Action,
    Campaign,
    CancelOffer,
    Finished,
    Offer,
    Paused,
    VehicleReport,
    on_vehicle_event,
    tick,
)
from backend.ota.car_history import SERVICE, CommandSent, EventRecord, OfferSent
from backend.ota.errors import (
    CampaignConflictError,
    CampaignSpecError,
    CampaignTransitionError,
    UnknownCampaignError,
)
from backend.ota.store import (
    campaign_ids,
    campaign_key,
    load_campaign,
    update_campaign,
)
from backend.ota.vehicle_facts import queue_running_version
from backend.privacy.retention_store import rule_kinds
from backend.privacy.retention_tags import tag_if_new
from protocols.clock import Clock
from protocols.consistency import check_topic_vin
from protocols.errors import EnvelopeError
from protocols.ota import (
    OtaCommand,
    OtaEvent,
    OtaOffer,
    pack_ota_command,
    pack_ota_offer,
    unpack_ota_event,
)
from protocols.topics import Publish, ota_command_topic, ota_offer_topic

log = logging.getLogger(__name__)

Step = Callable[[Campaign], tuple[Campaign, list[Action]]]

HISTORY_MAX: Final = 1_000  # a campaign takes ~20 entries per car: dozens of campaigns
CONFLICT_ROUNDS: Final = 10  # rounds of update_campaign's own WATCH tries
TICKED_STATUSES: Final = frozenset({b"running", b"paused", b"cancelled"})
VERSION_RULE: Final = "event version == campaign version"
NOT_IN_CAMPAIGN_RULE: Final = "vin in the campaign"  # ota_campaign.on_vehicle_event's rule
UNMATCHED: Final = "ota_event_unmatched"
_IDLE_REFUSALS: Final = frozenset({"cancelled", "service_switched_off"})


def events_key(vin: str) -> str:
    return f"ota:{vin}:events"


def sent_key(vin: str) -> str:
    return f"ota:{vin}:sent"


def state_key(vin: str) -> str:
    return f"ota:{vin}:state"


def release_notes_key(campaign_id: str) -> str:
    return f"ota:campaign:{campaign_id}:release-notes"


def report_of(event: OtaEvent) -> tuple[VehicleReport, str] | None:
    """What the car's phase means for its campaign: (report, reason code), or None.

    See the table in the module docstring; a precondition refusal is not final because
    the car offers the update again after its retry delay.
    """
    reason = event.reason or ""
    match event.state:
        case "downloading":
            return "downloading", reason
        case "downloaded" | "awaiting_confirmation":
            return "awaiting_confirmation", ""
        case "refused":
            return "awaiting_confirmation", reason or "unspecified"
        case "waiting_ecall":
            stage: VehicleReport = ("downloading" if event.bytes_done < event.bytes_total
                                    else "awaiting_confirmation")
            return stage, "ecall_active"
        case "installing":
            return "installing", ""
        case "done":
            return "done", ""
        case "failed":
            return "failed", reason or "install_failed"
        case "rolled_back":
            return "failed", f"{reason or 'install_failed'}_rolled_back"
        case "idle" if reason in _IDLE_REFUSALS:
            return "refused", reason
    return None


async def save_release_notes(oem: Redis, campaign_id: str, notes: str) -> None:
    """Keep the notes next to the campaign; the pure spec stays free of display text."""
    await oem.set(release_notes_key(campaign_id), notes)


async def load_release_notes(oem: Redis, campaign_id: str) -> str:
    raw = cast(bytes | None, await oem.get(release_notes_key(campaign_id)))
    return raw.decode() if raw is not None else ""


async def vehicle_ota(oem: Redis, vin: str, *, limit: int = HISTORY_MAX) -> dict[str, Any]:
    """The car's current OTA state (None before its first event), the events it reported
    and what was sent to it: the latest ``limit`` of each, oldest first, and the rule
    each of the three records is kept under, as its tag says (None before it exists).

    The lane stores events in the order it handles them, which QoS 1 and concurrent
    handling may shuffle; they are returned in the car's order (``at``, then
    ``sent_ns``), so the list reads as the path of the car's update machine.
    """
    async with oem.pipeline(transaction=False) as pipe:
        pipe.hgetall(state_key(vin))
        if limit > 0:
            pipe.lrange(events_key(vin), 0, -1)
            pipe.lrange(sent_key(vin), 0, -1)
        replies = await pipe.execute()
    state = cast(dict[bytes, bytes], replies[0])
    current = EventRecord.from_fields(state).view() if state else None
    current_rule, events_rule, sent_rule = await rule_kinds(
        oem, [state_key(vin), events_key(vin), sent_key(vin)])
    rules = {"current": current_rule, "events": events_rule, "sent": sent_rule}
    if limit <= 0:
        return {"vin": vin, "current": current, "events": [], "sent": [],
                "retention_rules": rules}
    events = sorted((json.loads(item) for item in cast(list[bytes], replies[1])),
                    key=lambda e: (e["at"], e.get("sent_ns", 0)))
    sent = sorted((json.loads(item) for item in cast(list[bytes], replies[2])),
                  key=lambda e: e["at"])
    return {"vin": vin, "current": current, "total_events": len(events),
            "events": events[-limit:], "total_sent": len(sent), "sent": sent[-limit:],
            "retention_rules": rules}


class OtaDesk:
    """Records car events, moves campaigns, performs their actions; one per process."""

    def __init__(self, oem: Redis, *, publish: Publish, counters: Counters,
                 clock: Clock) -> None:
        self._oem = oem
        self._publish = publish
        self._counters = counters
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    # -- events from the car ------------------------------------------------------------
    async def handle_event(self, vin: str, payload: bytes) -> None:
        """Store one ``OtaEvent`` and feed its campaign.

        Raises ``ProtocolError`` for a malformed event or one whose VIN is not the
        topic's (the services lane counts it); Redis errors propagate so the lane waits
        them out before acknowledging.
        """
        event = unpack_ota_event(payload)
        check_topic_vin(vin, event.vin)
        now = self.clock.now()
        fresh = await self._record(event, received_at=now)
        self._counters.bump(keys.INGEST_COUNTERS, "ota_event" if fresh else "ota_event_duplicate")
        report = report_of(event)
        if report is not None:
            # A redelivered duplicate is fed again: the step is idempotent and the first
            # delivery may have stopped between recording and the campaign update.
            await self._feed(event, *report, now=now)

    async def _record(self, event: OtaEvent, *, received_at: float) -> bool:
        """Append to the history and update the current state; False for a redelivery.

        The current state moves only forward in the car's time (``at``, then
        ``sent_ns``): QoS 1 may redeliver an older event after a newer one.
        """
        skey, ekey = state_key(event.vin), events_key(event.vin)
        record = EventRecord.of(event, received_at=received_at)
        while True:  # a WatchError means another event of this car was stored: go again
            async with self._oem.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(skey)
                    at, sent_ns = cast(list[bytes | None],
                                       await pipe.hmget(skey, ["at", "sent_ns"]))
                    duplicate = sent_ns is not None and int(sent_ns) == event.sent_ns
                    newer = at is None or sent_ns is None or (
                        (event.at, event.sent_ns) > (float(at), int(sent_ns)))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if not duplicate:
                        pipe.lpush(ekey, record.to_entry())
                        pipe.ltrim(ekey, 0, HISTORY_MAX - 1)
                    if newer:
                        pipe.hset(skey, mapping=record.to_fields())
                        queue_running_version(pipe, event.vin, event.running_version,
                                              at=event.at)
                    await pipe.execute()
                except WatchError:
                    continue
                # OTA maintenance information lives as long as the vehicle (§15).
                await tag_if_new(self._oem, [(skey, event.vin), (ekey, event.vin)],
                                 service=SERVICE, written_at=received_at)
                return not duplicate

    async def _feed(self, event: OtaEvent, report: VehicleReport, reason: str, *,
                    now: float) -> None:
        def step(c: Campaign) -> tuple[Campaign, list[Action]]:
            if c.spec.version != event.version:
                raise CampaignTransitionError(
                    f"{event.vin} reported version {event.version!r}, campaign "
                    f"{c.spec.campaign_id!r} ships {c.spec.version!r}",
                    campaign_id=c.spec.campaign_id, rule=VERSION_RULE, vin=event.vin)
            return on_vehicle_event(c, event.vin, report, reason=reason, now=now)

        try:
            await self.step(event.campaign_id, step)
        except UnknownCampaignError:
            self._counters.bump(keys.INGEST_COUNTERS, UNMATCHED)
            log.info("OTA event of %s for unknown campaign %r", event.vin, event.campaign_id)
        except CampaignTransitionError as exc:
            matched = exc.rule not in (NOT_IN_CAMPAIGN_RULE, VERSION_RULE)
            self._counters.bump(keys.INGEST_COUNTERS,
                                "ota_event_refused" if matched else UNMATCHED)
            log.info("OTA event of %s not applied: %s (rule: %s)", event.vin, exc, exc.rule)
        except CampaignConflictError as exc:
            self._counters.bump(keys.INGEST_COUNTERS, "ota_event_conflict")
            log.warning("OTA event of %s dropped: %s", event.vin, exc)

    # -- campaign steps and their actions ------------------------------------------------
    async def step(self, campaign_id: str, step: Step) -> Campaign:
        """Apply a pure step under WATCH, then perform its actions; returns the campaign.

        Steps of one campaign are serialised within the process, so a burst of events
        of one campaign does not fight over its key; across processes WATCH decides,
        with a few extra rounds before ``CampaignConflictError``.
        """
        lock = self._locks.setdefault(campaign_id, asyncio.Lock())
        for round_ in range(CONFLICT_ROUNDS):
            try:
                async with lock:
                    campaign, actions = await update_campaign(self._oem, campaign_id, step)
                break
            except CampaignConflictError:
                if round_ == CONFLICT_ROUNDS - 1:
                    raise
                await asyncio.sleep(0.01 * (round_ + 1) * (1 + random.random()))
        await self.perform(campaign, actions)
        return campaign

    async def perform(self, campaign: Campaign, actions: Sequence[Action]) -> None:
        """Publish offers and withdrawals; log and count pauses and ends."""
        campaign_id = campaign.spec.campaign_id
        for action in actions:
            match action:
                case Offer(vins=vins, group=group):
                    await self._offer(campaign, vins, group)
                case CancelOffer(vins=vins):
                    await self.send_command(vins, OtaCommand(campaign_id=campaign_id,
                                                             action="cancel", by="backend"))
                case Paused(reason=reason, group=group):
                    self._counters.bump(keys.INGEST_COUNTERS, "ota_campaign_paused")
                    log.warning("OTA campaign %s paused in group %s: %s", campaign_id, group,
                                reason)
                case Finished():
                    self._counters.bump(keys.INGEST_COUNTERS, "ota_campaign_finished")
                    log.info("OTA campaign %s finished", campaign_id)

    async def _offer(self, campaign: Campaign, vins: Sequence[str], group: str) -> None:
        spec = campaign.spec
        notes = await load_release_notes(self._oem, spec.campaign_id)
        try:
            payload = pack_ota_offer(OtaOffer(
                campaign_id=spec.campaign_id, version=spec.version, size_bytes=spec.size_bytes,
                critical=spec.critical, release_notes=notes, sent_ns=time.time_ns()))
        except EnvelopeError as exc:  # the API checks this at creation; never silently
            self._counters.bump(keys.ERROR_COUNTERS, f"{exc.field}:{exc.rule}")
            log.error("OTA offer of %s cannot be sent: %s", spec.campaign_id, exc)
            return
        for vin in vins:
            self._publish(ota_offer_topic(vin), payload)
        self._counters.bump(keys.INGEST_COUNTERS, "ota_offer_sent", len(vins))
        await self._note(vins, OfferSent(campaign_id=spec.campaign_id, version=spec.version,
                                         size_bytes=spec.size_bytes, critical=spec.critical,
                                         group=group, at=self.clock.now()).to_entry())

    async def send_command(self, vins: Iterable[str], command: OtaCommand) -> None:
        """Publish a command (backend cancel, or the customer's from the app) and note it."""
        payload = pack_ota_command(command)
        sent = list(vins)
        for vin in sent:
            self._publish(ota_command_topic(vin), payload)
        self._counters.bump(keys.INGEST_COUNTERS, f"ota_{command.action}_sent", len(sent))
        await self._note(sent, CommandSent(campaign_id=command.campaign_id,
                                           action=command.action, by=command.by,
                                           at=self.clock.now()).to_entry())

    async def _note(self, vins: Sequence[str], entry: str) -> None:
        if not vins:
            return
        async with self._oem.pipeline(transaction=False) as pipe:
            for vin in vins:
                pipe.lpush(sent_key(vin), entry)
                pipe.ltrim(sent_key(vin), 0, HISTORY_MAX - 1)
            await pipe.execute()
        await tag_if_new(self._oem, [(sent_key(vin), vin) for vin in vins], service=SERVICE,
                         written_at=self.clock.now())

    # -- the action timeout ---------------------------------------------------------------
    async def tick_all(self, now: float) -> int:
        """Time out silent cars of every live campaign; returns how many campaigns moved.

        Cancelled campaigns are ticked too: a car that was installing when its campaign
        was cancelled finishes on its own, and must not stay "installing" if it never
        reports. A campaign with nothing to time out is not written.
        """
        ids = await campaign_ids(self._oem)
        if not ids:
            return 0
        async with self._oem.pipeline(transaction=False) as pipe:
            for campaign_id in ids:
                pipe.hget(campaign_key(campaign_id), "status")
            statuses = cast(list[bytes | None], await pipe.execute())
        moved = 0
        for campaign_id, status in zip(ids, statuses, strict=True):
            if status not in TICKED_STATUSES:
                continue
            try:
                campaign = await load_campaign(self._oem, campaign_id)
                if tick(campaign, now=now)[0] is campaign:
                    continue
                await self.step(campaign_id, lambda c: tick(c, now=now))
                moved += 1
            except (UnknownCampaignError, CampaignConflictError) as exc:
                log.warning("OTA tick skipped %s: %s", campaign_id, exc)
            # A record this code cannot read (its spec no longer validates, or worse).
            except (CampaignSpecError, RecordFieldError, ValueError, KeyError, TypeError):
                self._counters.bump(keys.INGEST_COUNTERS, "ota_tick_unreadable")
                log.exception("OTA tick skipped unreadable campaign %s", campaign_id)
        return moved

    async def tick_forever(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        """Tick every ``interval_s`` until ``stop``; Redis outages are waited out.

        The first tick waits one interval, so a worker that just subscribed has heard
        the retained clock announcement: judged on real time, a scenario's campaign
        stamped with an earlier virtual time would time out every car at once.
        Several services workers may tick the same campaign: ``update_campaign`` runs
        under WATCH and a tick with nothing new to time out changes nothing.
        """
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
            if stop.is_set():
                return
            try:
                await self.tick_all(self.clock.now())
            except (RedisError, OSError, BackendError) as exc:
                self._counters.bump(keys.INGEST_COUNTERS, "ota_tick_error")
                log.warning("OTA tick failed (%s); next in %.1f s", type(exc).__name__,
                            interval_s)
            except Exception:  # a bug must not end the timeouts of every campaign
                self._counters.bump(keys.INGEST_COUNTERS, "ota_tick_error")
                log.exception("OTA tick failed; next in %.1f s", interval_s)
