"""The eCall stream of the benchmark: emulated cars' MSDs out, desk records back in.

Each eCall comes from a VIN of its own at a position in one of six directory countries,
built by the emulator's own MSD code, and is published QoS 1 on its variant's topic with
``sent_ns`` taken just before the publish. What a desk wrote (``received_ns``) and what
the relay stamped on the stream entry (``relay_ns``) are read back afterwards, polling
with a deadline, so latency is split into car→relay and relay→desk without touching
the backend.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import gmqtt
from redis.asyncio import Redis

from backend.infra import keys
from bench.fleet import COUNTRY_SPOTS, spot_near, vin_of
from protocols.envelope import EcallMessage, IntelligentExtras, pack
from protocols.msd.codec import encode_msd
from protocols.topics import EcallVariant, ecall_topic
from vehicle_sim.crash import CrashPulse, Occupancy
from vehicle_sim.injury import intelligent_extras
from vehicle_sim.vehicle import VehicleSpec, VehicleState, build_msd

_POLL_S: Final = 0.05
_XRANGE_MAX: Final = 100_000


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One eCall to send: who, where it should land, and its encoded MSD."""

    incident: str
    vin: str
    variant: EcallVariant
    country: str
    msd: bytes
    extras: IntelligentExtras | None

    @property
    def topic(self) -> str:
        return ecall_topic(self.vin, self.variant)


def is_intelligent(index: int, share: float) -> bool:
    """Spread ``share`` of the calls evenly: call ``index`` is Intelligent when the
    running count of Intelligent calls steps up at it."""
    return int((index + 1) * share) > int(index * share)


def plan_calls(count: int, *, token: str, phase: str, first_index: int,
               intelligent_share: float, timestamp: int) -> list[PlannedCall]:
    """``count`` eCalls from distinct VINs, round-robin over the six countries."""
    countries = list(COUNTRY_SPOTS)
    pulse = CrashPulse(delta_v_kmh=42.0, principal_direction="frontal")
    occupancy = Occupancy.from_belts([True, True], seats=5)
    calls = []
    for i in range(count):
        index = first_index + i
        country = countries[i % len(countries)]
        lat, lon = spot_near(country, index)
        vin = vin_of("ECL", token, index)
        spec = VehicleSpec(vin=vin, activation_country=country)
        state = VehicleState.start(lat=lat, lon=lon, heading_deg=(index * 7) % 360,
                                   speed_kmh=80.0, occupants=2, now=0.0)
        msd = build_msd(spec, state, message_identifier=1, automatic=True, timestamp=timestamp)
        variant: EcallVariant = "intelligent" if is_intelligent(i, intelligent_share) else "legal"
        extras = intelligent_extras(pulse, occupancy) if variant == "intelligent" else None
        calls.append(PlannedCall(f"bench-{token}-{phase}-{i:05d}", vin, variant, country,
                                 encode_msd(msd), extras))
    return calls


async def send_stream(client: gmqtt.Client, calls: Sequence[PlannedCall], *, rate: float,
                      max_s: float) -> dict[str, int]:
    """Publish the calls at ``rate``/s (bounded by ``max_s``); incident → sent_ns."""
    sent: dict[str, int] = {}
    t0 = time.perf_counter()
    for i, call in enumerate(calls):
        pause = t0 + i / rate - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        if time.perf_counter() - t0 > max_s:
            break
        sent_ns = time.time_ns()
        message = EcallMessage(call.variant, call.vin, call.incident, 1, call.msd, sent_ns,
                               call.country, call.extras)
        client.publish(call.topic, pack(message), qos=1)
        sent[call.incident] = sent_ns
    return sent


@dataclass(frozen=True, slots=True)
class Arrival:
    """Where and when a desk recorded an eCall, and when the relay handed it on."""

    desk: str
    received_ns: int
    relay_ns: int | None


def _record_key(call: PlannedCall) -> str:
    if call.variant == "intelligent":
        return keys.case_key(call.incident)
    return keys.psap_incident_key(call.incident)


async def _read_records(psap: Redis, oem: Redis, calls: Sequence[PlannedCall]
                        ) -> dict[str, tuple[str, int]]:
    """incident → (desk, received_ns) for the calls whose first desk has recorded them."""
    found: dict[str, tuple[str, int]] = {}
    for redis, variant, desk_field in ((psap, "legal", "desk"), (oem, "intelligent", None)):
        batch = [c for c in calls if c.variant == variant]
        if not batch:
            continue
        async with redis.pipeline(transaction=False) as pipe:
            for call in batch:
                pipe.hmget(_record_key(call), ["received_ns", desk_field or "incident"])
            rows = await pipe.execute()
        for call, (received, desk) in zip(batch, rows, strict=True):
            if received is not None:
                name = desk.decode() if desk_field and desk else "callcentre"
                found[call.incident] = (name, int(received))
    return found


async def _relay_stamps(psap: Redis, oem: Redis, streams: set[tuple[str, str]],
                        since_ms: int, incidents: set[str]) -> dict[str, int]:
    """incident → relay_ns from the intake stream entries written since ``since_ms``."""
    stamps: dict[str, int] = {}
    for domain, stream in sorted(streams):
        redis = oem if domain == "oem" else psap
        entries = await redis.xrange(stream, min=f"{since_ms}-0", max="+", count=_XRANGE_MAX)
        for _entry_id, raw in entries or []:
            fields = {_text(k): v for k, v in (raw or {}).items()}
            incident = _text(fields.get("incident", ""))
            relay_ns = fields.get("relay_ns")
            if incident in incidents and _text(fields.get("kind", "")) == "ecall" and relay_ns:
                stamps[incident] = int(relay_ns)
    return stamps


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


async def collect(psap: Redis, oem: Redis, calls: Sequence[PlannedCall], *,
                  timeout_s: float, since_ms: int) -> dict[str, Arrival]:
    """Poll the desks' records until every call is there or ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    pending = list(calls)
    found: dict[str, tuple[str, int]] = {}
    while pending:
        found |= await _read_records(psap, oem, pending)
        pending = [c for c in pending if c.incident not in found]
        if not pending or time.monotonic() >= deadline:
            break
        await asyncio.sleep(_POLL_S)
    streams = {("oem", keys.CALLCENTRE_STREAM) if desk == "callcentre"
               else ("psap", keys.psap_stream(desk)) for desk, _ in found.values()}
    stamps = await _relay_stamps(psap, oem, streams, since_ms, set(found))
    return {incident: Arrival(desk, received, stamps.get(incident))
            for incident, (desk, received) in found.items()}
