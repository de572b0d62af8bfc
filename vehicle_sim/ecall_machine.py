"""The car's eCall decisions for one vehicle (MINI Connected §7, ECALL-R1), as a pure state machine.

``step(state, event, now, ctx) -> (state, effects)`` does no I/O and reads no clock:
the runner passes ``now`` (seconds, real or virtual), performs the effects (build and
publish the MSD, arm the timer, place the voice call) and feeds back what arrives.

Variant choice, as MINI Connected §7 lays it down (docs/requirements.md#ecall-r1):

* Intelligent eCall to the OEM call centre when it was bought, has not expired and the
  car is in its activation country ("the purchased eCall service works in the country
  where it was activated");
* else Legal eCall (EU 112) when the car is in a country with eCall PSAPs: "the
  fallback for Intelligent eCall ... when Intelligent eCall fails, was not purchased,
  or has expired";
* else PSAP eCall, a voice call with no data, which is also the last resort.

Outside the activation country only Legal and PSAP eCall are on offer. When no
application-level acknowledgement arrives before the timer, the chain goes on:
intelligent -> legal -> PSAP voice. The wait is EN 16062 T6 (IVS waits 5 s for the
AL-ACK); over MQTT there is no link-layer ACK, so the timer starts at publication.

Acknowledgement faults stand for a downlink that fails after the backend has taken the
MSD: a *lost* acknowledgement never reaches the machine, a *late* one is held until the
attempt's timer has fired and only then taken in (by then it is stale), so the backend
holds every transmission of the chain while the car has moved on. An acknowledgement
the machine takes in is an ``AckReceived`` effect, for the runner's record.

The messageIdentifier starts at 1 per incident and grows by one on every MSD the car
sends for it, fallbacks and operator updates included, so a receiver can tell a fresh
MSD from a repeat; the MSD timestamp stays the one taken at the trigger (EN 15722
Table 1), kept in the state for the runner to reuse. Log effects carry ids, variants
and timings, never MSD content.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Final, Literal

from protocols.topics import EcallVariant

ACK_TIMEOUT_S: Final = 5.0  # EN 16062 Annex A, T6: IVS wait for AL-ACK
MAX_MSG_ID: Final = 255  # messageIdentifier is INTEGER(0..255)

Phase = Literal["idle", "awaiting_ack", "connected", "voice"]
CallVariant = Literal["intelligent", "legal", "psap_voice"]
AckFate = Literal["on_time", "late", "lost"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EcallContext:
    """What the car knows about its contract and surroundings when an eCall starts.

    ``today`` is the date the contract expiry is judged on; None means the UTC date
    of ``now``. ``in_ecall_country`` says whether the current country runs 112 eCall
    PSAPs (the EU set). The ``*_unreachable`` faults stand for a dead network path:
    no acknowledgement can come back over it, so only the timer moves the chain on.
    ``late_acks`` and ``lost_acks`` name the variants whose acknowledgements come after
    the timer or never, although their MSDs reach the backend.
    """

    intelligent_bought: bool
    intelligent_expires: date | None
    activation_country: str
    current_country: str
    in_ecall_country: bool
    today: date | None = None
    ack_timeout_s: float = ACK_TIMEOUT_S
    intelligent_unreachable: bool = False
    legal_unreachable: bool = False
    late_acks: frozenset[CallVariant] = frozenset()
    lost_acks: frozenset[CallVariant] = frozenset()

    def __post_init__(self) -> None:
        if not math.isfinite(self.ack_timeout_s) or self.ack_timeout_s <= 0:
            raise ValueError(f"ack_timeout_s {self.ack_timeout_s} must be a positive number")

    def unreachable(self, variant: CallVariant) -> bool:
        return (variant == "intelligent" and self.intelligent_unreachable) or (
            variant == "legal" and self.legal_unreachable)

    def ack_fate(self, variant: CallVariant) -> AckFate:
        """What happens to an acknowledgement of a ``variant`` MSD on its way to the car."""
        if variant in self.lost_acks:
            return "lost"
        return "late" if variant in self.late_acks else "on_time"


# -- events --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Trigger:
    """Airbag/belt-tensioner sensors (automatic) or the SOS button (manual)."""

    automatic: bool
    incident: str


@dataclass(frozen=True, slots=True)
class Ack:
    """The backend's application-level acknowledgement of one MSD."""

    incident: str
    msg_id: int
    route: str


@dataclass(frozen=True, slots=True)
class AckTimeout:
    """A timer armed by StartTimer has fired; ``attempt_token`` says which one."""

    incident: str
    attempt_token: int


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """The operator asks the car for a fresh MSD."""

    incident: str


@dataclass(frozen=True, slots=True)
class Clear:
    """The incident is over (call cleared down); the car is free for the next one."""

    incident: str


Event = Trigger | Ack | AckTimeout | UpdateRequest | Clear


# -- effects -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SendMsd:
    """Build the MSD (with ``msg_id`` and the state's timestamp) and publish it."""

    variant: EcallVariant
    incident: str
    msg_id: int


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Feed ``AckTimeout(incident, token)`` back at ``deadline`` (same clock as now)."""

    incident: str
    token: int
    deadline: float


@dataclass(frozen=True, slots=True)
class VoiceCall:
    """Place a PSAP voice call in ``country``: no data at all (MINI Connected §7c, ECALL-R9)."""

    country: str
    incident: str


@dataclass(frozen=True, slots=True)
class AckReceived:
    """An acknowledgement reached the car now (on time, or late once released)."""

    incident: str
    msg_id: int
    route: str


@dataclass(frozen=True, slots=True)
class Log:
    message: str


Effect = SendMsd | StartTimer | VoiceCall | AckReceived | Log


@dataclass(frozen=True, slots=True)
class EcallState:
    """The machine between events. ``token`` only ever grows, across incidents too,
    so a timer left over from an earlier attempt can never match a later one;
    ``variant_first_id`` is the first msg_id sent on the current variant, so an
    acknowledgement of any MSD of the current attempt counts. ``held`` are the
    acknowledgements a late-ack fault keeps back until the attempt's timer fires."""

    phase: Phase = "idle"
    variant: CallVariant | None = None
    incident: str = ""
    automatic: bool = False
    msg_id: int = 0
    variant_first_id: int = 0
    timestamp: int = 0
    token: int = 0
    held: tuple[Ack, ...] = ()


Transition = tuple[EcallState, list[Effect]]


def choose_variant(ctx: EcallContext, now: float) -> tuple[CallVariant, str]:
    """The first variant to try and why the better ones were passed over."""
    today = ctx.today or datetime.fromtimestamp(now, tz=UTC).date()
    if ctx.current_country != ctx.activation_country:
        reason = f"abroad ({ctx.current_country}, activated in {ctx.activation_country})"
    elif not ctx.intelligent_bought:
        reason = "intelligent eCall not bought"
    elif ctx.intelligent_expires is not None and today > ctx.intelligent_expires:
        reason = f"intelligent eCall expired on {ctx.intelligent_expires.isoformat()}"
    else:
        return "intelligent", "intelligent eCall active"
    if ctx.in_ecall_country:
        return "legal", reason
    return "psap_voice", f"{reason}; no eCall PSAPs in {ctx.current_country}"


def fallback_variant(variant: CallVariant, ctx: EcallContext) -> CallVariant:
    """The next variant after ``variant`` failed to be acknowledged."""
    if variant == "intelligent" and ctx.in_ecall_country:
        return "legal"
    return "psap_voice"


def step(state: EcallState, event: Event, now: float, ctx: EcallContext) -> Transition:
    """Apply one event; return the new state and the effects for the runner."""
    match event:
        case Trigger():
            return _on_trigger(state, event, now, ctx)
        case Ack():
            return _on_ack(state, event, ctx)
        case AckTimeout():
            return _on_timeout(state, event, now, ctx)
        case UpdateRequest():
            return _on_update(state, event, now, ctx)
        case Clear():
            return _on_clear(state, event)
    raise TypeError(f"not an eCall event: {event!r}")


def _on_trigger(state: EcallState, event: Trigger, now: float, ctx: EcallContext) -> Transition:
    kind = "automatic" if event.automatic else "manual"
    if state.phase != "idle":
        return state, [Log(f"{event.incident}: {kind} trigger ignored, "
                           f"incident {state.incident} is {state.phase}")]
    variant, reason = choose_variant(ctx, now)
    started = replace(state, incident=event.incident, automatic=event.automatic,
                      timestamp=int(now), msg_id=0)
    note = Log(f"{event.incident}: {kind} trigger at {now:.3f}; {reason} -> {variant}")
    started, effects = _attempt(started, variant, now, ctx)
    return started, [note, *effects]


def _attempt(state: EcallState, variant: CallVariant, now: float,
             ctx: EcallContext) -> Transition:
    """Start ``variant``: an MSD and its ack timer, or the voice call of last resort."""
    msg_id = state.msg_id + 1
    if variant == "psap_voice" or msg_id > MAX_MSG_ID:
        voice = replace(state, phase="voice", variant="psap_voice")
        return voice, [VoiceCall(ctx.current_country, state.incident),
                       Log(f"{state.incident}: PSAP voice call in {ctx.current_country}")]
    token = state.token + 1
    deadline = now + ctx.ack_timeout_s
    sent = replace(state, phase="awaiting_ack", variant=variant, msg_id=msg_id,
                   variant_first_id=msg_id, token=token)
    return sent, [SendMsd(variant, state.incident, msg_id),
                  StartTimer(state.incident, token, deadline),
                  Log(f"{state.incident}: {variant} MSD #{msg_id} sent at {now:.3f}, "
                      f"ack due by {deadline:.3f} (token {token})")]


def _on_ack(state: EcallState, event: Ack, ctx: EcallContext) -> Transition:
    """An acknowledgement on the downlink: taken in at once, unless an ack fault of the
    current attempt's variant loses it or holds it back until the timer fires."""
    where = f"{event.incident}: ack of MSD #{event.msg_id} via {event.route}"
    if state.phase in ("awaiting_ack", "connected") and event.incident == state.incident:
        assert state.variant is not None
        if ctx.unreachable(state.variant):
            return state, [Log(f"{where} ignored, the {state.variant} path is marked "
                               f"unreachable")]
        current = state.variant_first_id <= event.msg_id <= state.msg_id
        fate = ctx.ack_fate(state.variant) if current else "on_time"
        if fate == "lost":
            return state, [Log(f"{where} lost on its way to the car "
                               f"({state.variant} ack fault)")]
        if fate == "late" and state.phase == "awaiting_ack":
            return replace(state, held=(*state.held, event)), [
                Log(f"{where} held until the timer fires ({state.variant} ack fault)")]
    return _take_ack(state, event, where)


def _take_ack(state: EcallState, event: Ack, where: str) -> Transition:
    """The acknowledgement reached the car: it connects the current attempt, or is
    ignored as stale or as belonging to no active data call."""
    received = AckReceived(event.incident, event.msg_id, event.route)
    if state.phase not in ("awaiting_ack", "connected") or event.incident != state.incident:
        return state, [received, Log(f"{where} ignored, no such active incident")]
    if not state.variant_first_id <= event.msg_id <= state.msg_id:
        return state, [received, Log(f"{where} ignored, stale (current attempt "
                                     f"#{state.variant_first_id}..#{state.msg_id})")]
    if state.phase == "connected":
        return state, [received, Log(f"{where} received while connected")]
    return replace(state, phase="connected"), [received,
                                               Log(f"{where}: {state.variant} connected")]


def _on_timeout(state: EcallState, event: AckTimeout, now: float,
                ctx: EcallContext) -> Transition:
    if (state.phase != "awaiting_ack" or event.incident != state.incident
            or event.attempt_token != state.token):
        return state, [Log(f"{event.incident}: stale timer (token {event.attempt_token}) "
                           f"ignored")]
    assert state.variant is not None
    nxt = fallback_variant(state.variant, ctx)
    note = Log(f"{state.incident}: no ack for {state.variant} MSD #{state.msg_id} within "
               f"{ctx.ack_timeout_s:g} s (at {now:.3f}) -> {nxt}")
    moved, effects = _attempt(replace(state, held=()), nxt, now, ctx)
    released: list[Effect] = []
    for late in state.held:  # delivered now, after the timer: stale for the new attempt
        moved, taken = _take_ack(moved, late, f"{late.incident}: late ack of MSD "
                                 f"#{late.msg_id} via {late.route}")
        released.extend(taken)
    return moved, [note, *effects, *released]


def _on_update(state: EcallState, event: UpdateRequest, now: float,
               ctx: EcallContext) -> Transition:
    """A fresh MSD on the current variant. While still waiting for the first ack the
    timer restarts with it, so the fallback keeps protecting the call; once connected
    the session is up and a lost update ack does not switch variant."""
    if state.phase not in ("awaiting_ack", "connected") or event.incident != state.incident:
        return state, [Log(f"{event.incident}: update request ignored, no data session "
                           f"(phase {state.phase})")]
    assert state.variant is not None and state.variant != "psap_voice"
    msg_id = state.msg_id + 1
    if msg_id > MAX_MSG_ID:
        return state, [Log(f"{state.incident}: update request refused, messageIdentifier "
                           f"exhausted at #{state.msg_id}")]
    note = f"{state.incident}: update request -> {state.variant} MSD #{msg_id} at {now:.3f}"
    if state.phase == "connected":
        return replace(state, msg_id=msg_id), [SendMsd(state.variant, state.incident, msg_id),
                                               Log(note)]
    token = state.token + 1
    deadline = now + ctx.ack_timeout_s
    return replace(state, msg_id=msg_id, token=token), [
        SendMsd(state.variant, state.incident, msg_id),
        StartTimer(state.incident, token, deadline),
        Log(f"{note}, ack due by {deadline:.3f} (token {token})"),
    ]


def _on_clear(state: EcallState, event: Clear) -> Transition:
    if state.phase == "idle" or event.incident != state.incident:
        return state, [Log(f"{event.incident}: clear ignored, not the active incident")]
    return EcallState(token=state.token), [Log(f"{state.incident}: cleared ({state.phase})")]
