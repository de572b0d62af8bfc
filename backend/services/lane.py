"""The services lane: Teleservice calls, Smart Maintenance transfers, assistance calls and
the cars' OTA events (``backend.ota.lane``).

These are not safety calls, so they have a share group and a process of their own and
can never delay an eCall. Each message is checked, decided and stored before its MQTT
PUBACK, so a crash redelivers it, and a Redis outage runs it again from the start; so
every step is one that may run twice: records are created once, and metering is by the
message's own id (``backend.privacy.budget_store``). Rules about days are evaluated at the
message's own time (``at``), which in scenario mode is the scenario's virtual time.
"""

from __future__ import annotations

import logging
from typing import Final, Literal, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from backend.assistance.desk import SERVICE_OF, Assessment, decide_case
from backend.assistance.store import save_case
from backend.infra import keys
from backend.infra.clock_follower import FollowingClock
from backend.infra.counters import Counters
from backend.infra.errors import StoreBusyError
from backend.infra.redis_once import under_watch
from backend.infra.redis_retry import until_redis_takes
from backend.infra.rejection_replies import Refusals
from backend.ota.lane import OtaDesk
from backend.privacy.budget_store import Direction, count_refused, meter
from backend.privacy.retention_tags import tag_if_new
from backend.services.maintenance_store import mark_notified, receive
from backend.services.partners import assign, map_update_due, workshop_map
from backend.services.vehicle_registry import VehicleProfile, load_profile
from protocols.assistance import unpack_assistance_call
from protocols.consistency import check_topic_vin
from protocols.errors import EnvelopeError, ProtocolError
from protocols.ota import unpack_ota_event
from protocols.size_bounds import SizeBound, within
from protocols.teleservice import (
    TELESERVICE_BOUND,
    SmartMaintenanceTransfer,
    TeleserviceCall,
    packed,
    unpack_call,
    unpack_smart_transfer,
)
from protocols.topics import Publish, parse_topic, workshop_map_topic

log = logging.getLogger(__name__)
def map_sent_key(vin: str) -> str:
    """When the workshop map last went down to ``vin`` (§16a data, tagged)."""
    return f"sp:map-sent:{vin}"


# A car may send what it held while offline, but not from before the longest retention
# window the lane applies (13 months), nor from tomorrow: such times would create records
# due for deletion at once, or never.
MAX_AGE_S: Final = 400 * 86_400.0
MAX_AHEAD_S: Final = 86_400.0
TIME_WINDOW_RULE: Final = "within 400 days before and 1 day after the backend's clock"


# The services whose decoder refuses a message unread for its size, by topic kind, with
# that bound: the same figure as the service's catalogue budget (per message), so such a
# refusal is counted in the budget view as the meter would count it.
READ_BOUNDS: Final[dict[str, tuple[str, SizeBound]]] = {
    "teleservice_call": ("teleservice_call", TELESERVICE_BOUND),
    "smart_maintenance": ("smart_maintenance", TELESERVICE_BOUND),
}


def check_message_time(at: float, *, now: float) -> None:
    """Refuse a message whose own time is outside the window around ``now`` (pure)."""
    if not now - MAX_AGE_S <= at <= now + MAX_AHEAD_S:
        raise EnvelopeError(f"message time {at!r} is outside the accepted window", field="at",
                            rule=TIME_WINDOW_RULE)


class ServicesDesk:
    """Decides and stores what the services lane receives; never raises for bad input."""

    def __init__(self, oem: Redis, *, publish: Publish, counters: Counters,
                 clock: FollowingClock | None = None, map_version: int = 1) -> None:
        self._oem = oem
        self.clock = clock or FollowingClock()
        self._publish = publish
        self._counters = counters
        self._map_version = map_version
        self._refusals = Refusals(publish, counters)
        self.ota = OtaDesk(oem, publish=publish, counters=counters, clock=self.clock)

    async def handle(self, topic: str, payload: bytes) -> None:
        """Decide and store; a Redis outage is waited out, so nothing is acked unstored.

        Clock announcements reach ``self.clock`` through the lane's clock feed
        (``backend.infra.clock_follower.clock_feed``), not through here."""
        await until_redis_takes(lambda: self._handle_once(topic, payload),
                                counters=self._counters, what="services")

    async def _handle_once(self, topic: str, payload: bytes) -> None:
        try:
            parsed = parse_topic(topic)
            await self._refuse_oversized(parsed.kind, parsed.vin, payload)
            if parsed.kind == "teleservice_call":
                call = unpack_call(payload)
                await self._admit("teleservice_call", parsed.vin, len(payload), call.at,
                                  message_id=call.call_id)
                await self._maintenance(parsed.vin, call)
            elif parsed.kind == "smart_maintenance":
                transfer = unpack_smart_transfer(payload)
                await self._admit("smart_maintenance", parsed.vin, len(payload), transfer.at,
                                  message_id=transfer.transfer_id)
                await self._maintenance(parsed.vin, transfer)
            elif parsed.kind == "assistance":
                await self._assistance(parsed.vin, payload)
            elif parsed.kind == "ota_event":
                event = unpack_ota_event(payload)
                event_id = str(event.sent_ns)  # the car's own stamp of this event
                await self._admit("rsu", parsed.vin, len(payload), event.at,
                                  message_id=event_id)
                await self.ota.handle_event(parsed.vin, payload)
                if event.state == "downloaded":  # the package itself, 1-10 GB (§15)
                    await self._admit("rsu", parsed.vin, event.bytes_total, event.at,
                                      direction="down", message_id=event_id)
            else:
                raise EnvelopeError(f"{parsed.kind} is not a services topic", field="topic",
                                    rule="services lane")
        except ProtocolError as exc:
            self._counters.reject(exc, lane="services")
            self._refusals.answer(topic, payload, exc)

    async def _refuse_oversized(self, kind: str, vin: str, payload: bytes) -> None:
        """Refuse, unread, a message over its service's size bound, and count it in the
        budget view with that bound (``message_over_budget``), as the meter counts the
        messages it refuses: the README promises every refusal there, and the decoder
        would otherwise refuse it before the meter ever saw it."""
        read = READ_BOUNDS.get(kind)
        if read is None:
            return
        service, bound = read
        if within(bound, len(payload)):
            return
        await count_refused(self._oem, vin=vin, service=service,
                            reason="message_over_budget", message=payload)
        raise EnvelopeError(f"{service} is {len(payload)} bytes", field=service,
                            rule=bound.rule)

    async def _admit(self, service: str, vin: str, size: int, at: float, *, message_id: str,
                     direction: Direction = "up") -> None:
        """Check the message's time against the backend's clock, then meter it against its
        catalogue budget; over it, it is refused and counted with the bound and the rule
        it broke (never a safety call: not here).

        Metered by its own id: a message run again after a Redis outage (``handle``) is
        counted once, and refused again if it was refused."""
        check_message_time(at, now=self.clock.now())
        verdict = await meter(self._oem, vin=vin, service=service, size=size, at=at,
                              direction=direction, message_id=message_id)
        if not verdict.accepted:
            raise EnvelopeError(verdict.explanation, field=verdict.field or "envelope",
                                rule=verdict.rule)

    async def _profile(self, vin: str) -> VehicleProfile | None:
        return await load_profile(self._oem, vin)

    async def _maintenance(self, vin: str,
                           message: TeleserviceCall | SmartMaintenanceTransfer) -> None:
        check_topic_vin(vin, message.vin)
        profile = await self._profile(vin)
        home = (profile.home_country, profile.home_lat, profile.home_lon) if profile else (
            "BE", 50.85, 4.35)
        partner = assign(home[0], home[1], home[2],
                         preferred=profile.preferred_partner if profile else None)
        case = await receive(self._oem, message, partner_id=partner.id, now=message.at,
                             received_at=self.clock.now())
        kind = "teleservice" if isinstance(message, TeleserviceCall) else "smart_maintenance"
        self._counters.bump(keys.INGEST_COUNTERS, kind)
        if case is not None and case.status == "open":
            # The need goes to the customer's service partner: its desk lists the case.
            await mark_notified(self._oem, case.case_id, now=message.at, via="partner_desk")
        if isinstance(message, TeleserviceCall):
            await self._workshop_map(vin, message.at)

    async def _workshop_map(self, vin: str, now: float) -> None:
        """About six times a year the car gets the workshop map (MINI Connected §16a, SP-R2).

        The decision is one step: two calls handled at once cannot both see "no map sent
        yet" and both send one (the map costs the car about 200 KB of its budget). A call
        run again (``handle`` after a Redis failure, or a redelivery) finds its own claim
        and finishes it: metered once by the claim's time, sent, its record tagged. The
        car may then get the same map twice, which it reads as one."""
        key = map_sent_key(vin)
        previous = await self._claim_map(key, now)
        if previous is False:
            return
        update = packed(workshop_map(self._map_version))
        verdict = await meter(self._oem, vin=vin, service="workshop_map", size=len(update),
                              at=now, direction="down", message_id=f"map@{now!r}")
        if not verdict.accepted:
            log.warning("workshop map not sent: %s", verdict.explanation)
            await self._release_map(key, now, previous)
            return
        self._publish(workshop_map_topic(vin), update)
        await tag_if_new(self._oem, [(key, vin)], service="workshop_map", written_at=now)
        self._counters.bump(keys.INGEST_COUNTERS, "workshop_map_sent")

    async def _claim_map(self, key: str, now: float) -> bytes | Literal[False] | None:
        """Mark the map sent at ``now`` if it is due; the previous mark (None: never, or
        unknown because the mark at ``now`` is this call's own from an earlier try), or
        False when it is not due or another call claimed it first."""

        async def claim(pipe: Pipeline) -> bytes | Literal[False] | None:
            last = cast(bytes | None, await pipe.get(key))
            if last == repr(now).encode():
                return None
            if not map_update_due(float(last) if last is not None else None, now=now):
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.set(key, repr(now))
            await pipe.execute()
            return last

        return await under_watch(self._oem, key, claim,
                                 give_up=lambda: StoreBusyError(f"{key} kept changing"))

    async def _release_map(self, key: str, now: float, previous: bytes | None) -> None:
        """Undo a claim whose map was not sent, unless a later claim replaced it."""

        async def release(pipe: Pipeline) -> None:
            if await pipe.get(key) != repr(now).encode():
                return
            pipe.multi()  # type: ignore[no-untyped-call]
            if previous is None:
                pipe.delete(key)
            else:
                pipe.set(key, previous)
            await pipe.execute()

        await under_watch(self._oem, key, release,
                          give_up=lambda: StoreBusyError(f"{key} kept changing"))

    async def _assistance(self, vin: str, payload: bytes) -> None:
        call = unpack_assistance_call(payload)
        check_topic_vin(vin, call.vin)
        await self._admit(SERVICE_OF[call.kind], vin, len(payload), call.at,
                          message_id=call.request_id)
        profile = await self._profile(vin)
        if profile is None:
            # No contract on record: the case is still opened, and the decision says why
            # nothing is granted (no pickup date, so no validity window).
            profile = VehicleProfile(home_country="BE", home_lat=call.lat, home_lon=call.lon)
        case = decide_case(call, profile.policy(), now=call.at, assessment=Assessment())
        await save_case(self._oem, case)
        self._counters.bump(keys.INGEST_COUNTERS, f"assistance:{case.service}")
