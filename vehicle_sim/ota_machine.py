"""The car's Remote Software Upgrade decisions for one vehicle, as a pure state machine.

``step(state, event, now, ctx) -> (state, effects)`` does no I/O and reads no clock, like
``vehicle_sim.ecall_machine``: the runner performs the effects (transfer bytes, lock the
car, publish the ``OtaEvent``) and feeds back what happens.

The path, from the service catalogue (MINI Connected §15 and art. 4.5-4.8;
OTA-R1 to OTA-R5 of docs/requirements.md)::

    idle -> notified -> downloading -> downloaded -> awaiting_confirmation
         -> installing -> done | failed | rolled_back
    side states: waiting_ecall (postponed by an active eCall), refused (preconditions)

* Notice first, download next, then the customer confirms: "each installation must be
  started manually", in the car or via the app (OTA-R2). The download itself
  starts without a confirmation, on the first ``Tick`` after the notice.
* A lost connection keeps the bytes already received; ``ConnectionBack`` resumes the
  transfer from ``bytes_done`` (MINI Connected art. 4.7 names "poor mobile data
  connection" as a reason to repeat, OTA-R4).
* Preconditions are checked when the customer confirms: at least OS 9 (OTA-R1), the
  battery (OTA-R1; the minimum charge is a model parameter, ``min_battery_soc``) and
  a parked car (art. 4.7, OTA-R4). The first failing one, in that order, is the reason code.
  A refused campaign is offered again after ``retry_after_s``, still waiting for a
  manual confirmation.
* While an eCall is active no download starts and no installation starts: "starten van
  een EU eCall" makes a remote intervention impossible and it is repeated later (line
  85); the machine waits in ``waiting_ecall`` and goes on when the eCall clears.
* Installing locks the car ("cannot be used during installation", OTA-R3), stops an
  EV's charging, which is never resumed by the machine ("may need a manual restart"),
  and lasts at most ``install_s`` <= 600 s: a disruption longer than "10 (tien) minuten
  per poging" is undue harm (OTA-R4). Past that deadline the attempt ends as a timeout.
* A failed or aborted installation raises a roadside assistance call (AS-R5, OTA-R5:
  "An aborted RSU can trigger a Roadside Assistance Call").
* A customer who switched the service off (OTA-R2) gets no notices; critical security
  updates are the exception (MINI Connected art. 3.8, OTA-R2). They still need the manual
  confirmation.
* ``running_version`` changes only when an installation is done.

Every change of what the backend can see (phase, campaign, reason, channel, a lost
connection, a tenth of the download, the running version) produces exactly one ``Emit``;
``step`` computes it from the old and new state, so no handler can forget or double it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final, Literal

from protocols.ota import (
    CommandSource,
    DownloadChannel,
    OtaEvent,
    OtaOffer,
    OtaReason,
    OtaStateName,
)

MIN_OS_VERSION: Final = 9  # catalogue §15 prerequisites, OTA-R1
MAX_INSTALL_S: Final = 600.0  # art. 4.5(d), OTA-R4: no disruption over 10 minutes per attempt
MIN_BATTERY_SOC: Final = 0.3  # model parameter: §15 names the battery, not a threshold
RETRY_AFTER_S: Final = 3600.0  # model parameter: when a refused campaign is offered again
PROGRESS_STEPS: Final = 10  # one progress event per tenth of the download

Pending = Literal["download", "install"]
_BEFORE_INSTALL: Final = frozenset({
    "notified", "downloading", "downloaded", "awaiting_confirmation", "waiting_ecall",
    "refused",
})
_FINISHED: Final = frozenset({"idle", "done", "failed", "rolled_back"})


@dataclass(frozen=True, slots=True, kw_only=True)
class OtaContext:
    """The car's conditions, as the runner reads them at each step.

    ``service_enabled`` and ``ecall_active`` seed ``initial_state``; afterwards the
    ``SwitchOff``/``SwitchOn`` and ``EcallStarted``/``EcallCleared`` events are the
    truth. ``fail_install`` makes every installation fail whatever the runner reports;
    ``lose_connection_at_bytes`` cuts the transfer once when it reaches that byte.
    """

    vin: str
    os_version: int
    battery_soc: float
    parked: bool
    charging: bool = False
    service_enabled: bool = True
    ecall_active: bool = False
    channel: DownloadChannel = "sim"
    install_s: float = MAX_INSTALL_S
    min_battery_soc: float = MIN_BATTERY_SOC
    retry_after_s: float = RETRY_AFTER_S
    can_roll_back: bool = True
    fail_install: bool = False
    lose_connection_at_bytes: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.install_s) and 0 < self.install_s <= MAX_INSTALL_S):
            raise ValueError(f"install_s {self.install_s} must be in (0, {MAX_INSTALL_S:g}]"
                             " (10-minute limit per attempt)")
        if not (math.isfinite(self.battery_soc) and 0.0 <= self.battery_soc <= 1.0):
            raise ValueError(f"battery_soc {self.battery_soc} must be in 0..1")
        if not (math.isfinite(self.retry_after_s) and self.retry_after_s > 0):
            raise ValueError(f"retry_after_s {self.retry_after_s} must be positive")


# -- events --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Offer:
    """The backend offers a campaign (``OtaOffer`` downlink)."""

    offer: OtaOffer


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    """``received`` more bytes arrived on the current transfer."""

    received: int


@dataclass(frozen=True, slots=True)
class ConnectionLost:
    """The transfer broke off; the bytes received so far are kept."""


@dataclass(frozen=True, slots=True)
class ConnectionBack:
    """A link is up again, on ``channel`` or, when None, on the one used before."""

    channel: DownloadChannel | None = None


@dataclass(frozen=True, slots=True)
class Confirm:
    """The customer starts the installation, in the car or from the app."""

    by: CommandSource


@dataclass(frozen=True, slots=True)
class Cancel:
    """The customer drops the campaign before it installs."""

    by: CommandSource


@dataclass(frozen=True, slots=True)
class Retry:
    """The customer asks to try a refused or unsuccessful campaign again."""

    by: CommandSource


@dataclass(frozen=True, slots=True)
class InstallFinished:
    """The installer reports; ``rolled_back`` says whether the old version was restored."""

    ok: bool
    rolled_back: bool = True


@dataclass(frozen=True, slots=True)
class EcallStarted:
    """An eCall became active in this car."""


@dataclass(frozen=True, slots=True)
class EcallCleared:
    """The eCall is over."""


@dataclass(frozen=True, slots=True)
class SwitchOff:
    """The customer switched the upgrade service off in the car's settings."""


@dataclass(frozen=True, slots=True)
class SwitchOn:
    """The customer switched the upgrade service back on."""


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed; timers (next step, retry, install deadline) are judged on ``now``."""


Event = (Offer | DownloadProgress | ConnectionLost | ConnectionBack | Confirm | Cancel
         | Retry | InstallFinished | EcallStarted | EcallCleared | SwitchOff | SwitchOn | Tick)


# -- effects -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Emit:
    """Publish this ``OtaEvent``; the runner stamps ``sent_ns`` at publication."""

    event: OtaEvent


@dataclass(frozen=True, slots=True)
class StartDownload:
    """Fetch the package on ``channel`` from ``from_byte`` on (0, or a resumption)."""

    channel: DownloadChannel
    from_byte: int


@dataclass(frozen=True, slots=True)
class StopDownload:
    """Abandon the running transfer; the bytes received so far stay on the car."""


@dataclass(frozen=True, slots=True)
class StartInstall:
    """Run the installer; it must report ``InstallFinished`` before ``deadline``."""

    version: str
    deadline: float


@dataclass(frozen=True, slots=True)
class StopCharging:
    """Interrupt EV charging for the installation; nothing restarts it but the customer."""


@dataclass(frozen=True, slots=True)
class LockVehicle:
    """The car cannot be used while installing."""


@dataclass(frozen=True, slots=True)
class UnlockVehicle:
    """The installation is over; the car may be used again."""


@dataclass(frozen=True, slots=True)
class RequestAssistance:
    """Start a roadside assistance call after a failed or aborted installation."""

    kind: Literal["failed_update"] = "failed_update"


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    """Feed a ``Tick`` back after ``after_s`` so the refused campaign is offered again."""

    after_s: float


Effect = (Emit | StartDownload | StopDownload | StartInstall | StopCharging | LockVehicle
          | UnlockVehicle | RequestAssistance | ScheduleRetry)


@dataclass(frozen=True, slots=True, kw_only=True)
class OtaState:
    """The machine between events; one campaign at a time.

    ``pending`` is what ``waiting_ecall`` will resume; ``retry_at`` and
    ``install_deadline`` are on the same clock as ``now``.
    """

    phase: OtaStateName = "idle"
    running_version: str
    campaign_id: str = ""
    version: str = ""
    size_bytes: int = 0
    critical: bool = False
    bytes_done: int = 0
    channel: DownloadChannel | None = None
    interrupted: bool = False
    cut_done: bool = False
    reason: OtaReason | None = None
    pending: Pending | None = None
    retry_at: float = 0.0
    install_deadline: float = 0.0
    service_enabled: bool = True
    ecall_active: bool = False


Transition = tuple[OtaState, list[Effect]]


def initial_state(ctx: OtaContext, *, running_version: str) -> OtaState:
    """A car with no campaign, the service and eCall flags taken from ``ctx``."""
    return OtaState(running_version=running_version, service_enabled=ctx.service_enabled,
                    ecall_active=ctx.ecall_active)


def wire_view(state: OtaState) -> tuple[object, ...]:
    """What the backend sees of ``state``; an ``Emit`` goes out exactly when it changes."""
    tenth = state.bytes_done * PROGRESS_STEPS // state.size_bytes if state.size_bytes else 0
    return (state.phase, state.campaign_id, state.reason, state.channel, state.interrupted,
            tenth, state.running_version)


def precondition_failure(ctx: OtaContext) -> OtaReason | None:
    """The first unmet installation precondition, or None when all hold."""
    if ctx.os_version < MIN_OS_VERSION:
        return "os_too_old"
    if ctx.battery_soc < ctx.min_battery_soc:
        return "battery_low"
    if not ctx.parked:
        return "not_parked"
    return None


def step(state: OtaState, event: Event, now: float, ctx: OtaContext) -> Transition:
    """Apply one event; return the new state and the effects, one ``Emit`` per change."""
    new, effects = _dispatch(state, event, now, ctx)
    if wire_view(new) != wire_view(state):
        effects.insert(0, _emit(new, now, ctx.vin))
    return new, effects


def _dispatch(state: OtaState, event: Event, now: float, ctx: OtaContext) -> Transition:
    match event:
        case Offer():
            return _on_offer(state, event.offer)
        case DownloadProgress():
            return _on_progress(state, event.received, ctx)
        case ConnectionLost():
            if state.phase == "downloading" and not state.interrupted:
                return replace(state, interrupted=True, reason="download_interrupted"), []
            return state, []
        case ConnectionBack():
            return _on_connection_back(state, event.channel)
        case Confirm():
            if state.phase != "awaiting_confirmation":
                return state, []
            return _try_install(state, now, ctx)
        case Cancel():
            return _drop(state, "cancelled")
        case Retry():
            if state.phase in ("refused", "failed", "rolled_back"):
                return replace(state, phase="awaiting_confirmation", reason=None), []
            return state, []
        case InstallFinished():
            return _on_install_finished(state, event, ctx)
        case EcallStarted():
            return _on_ecall_started(state)
        case EcallCleared():
            return _on_ecall_cleared(replace(state, ecall_active=False), now, ctx)
        case SwitchOff():
            off = replace(state, service_enabled=False)
            return _drop(off, "service_switched_off") if not state.critical else (off, [])
        case SwitchOn():
            return replace(state, service_enabled=True), []
        case Tick():
            return _on_tick(state, now, ctx)
    raise TypeError(f"not an OTA event: {event!r}")


def _on_offer(state: OtaState, offer: OtaOffer) -> Transition:
    if state.phase not in _FINISHED:
        return state, []  # one campaign at a time
    fresh = replace(state, campaign_id=offer.campaign_id, version=offer.version,
                    size_bytes=offer.size_bytes, critical=offer.critical, bytes_done=0,
                    channel=None, interrupted=False, cut_done=False, pending=None)
    if not state.service_enabled and not offer.critical:
        return replace(fresh, phase="idle", reason="service_switched_off"), []
    return replace(fresh, phase="notified", reason=None), []


def _start_download(state: OtaState, ctx: OtaContext) -> Transition:
    channel = state.channel or ctx.channel
    started = replace(state, phase="downloading", channel=channel, interrupted=False,
                      reason=None, pending=None)
    return started, [StartDownload(channel, state.bytes_done)]


def _on_progress(state: OtaState, received: int, ctx: OtaContext) -> Transition:
    if state.phase != "downloading" or state.interrupted or received <= 0:
        return state, []
    done = min(state.bytes_done + received, state.size_bytes)
    cut = ctx.lose_connection_at_bytes
    if (cut is not None and not state.cut_done and state.bytes_done < cut <= done
            and cut < state.size_bytes):
        return replace(state, bytes_done=cut, cut_done=True, interrupted=True,
                       reason="download_interrupted"), []
    if done == state.size_bytes:
        return replace(state, phase="downloaded", bytes_done=done), []
    return replace(state, bytes_done=done), []


def _on_connection_back(state: OtaState, channel: DownloadChannel | None) -> Transition:
    if state.phase != "downloading" or not state.interrupted:
        return state, []
    resumed = replace(state, channel=channel or state.channel, interrupted=False, reason=None)
    assert resumed.channel is not None
    return resumed, [StartDownload(resumed.channel, resumed.bytes_done)]


def _try_install(state: OtaState, now: float, ctx: OtaContext) -> Transition:
    if state.ecall_active:
        return replace(state, phase="waiting_ecall", pending="install",
                       reason="ecall_active"), []
    refusal = precondition_failure(ctx)
    if refusal is not None:
        return (replace(state, phase="refused", reason=refusal, pending=None,
                        retry_at=now + ctx.retry_after_s),
                [ScheduleRetry(ctx.retry_after_s)])
    deadline = now + ctx.install_s
    installing = replace(state, phase="installing", reason=None, pending=None,
                         install_deadline=deadline)
    effects: list[Effect] = [LockVehicle()]
    if ctx.charging:
        effects.append(StopCharging())
    effects.append(StartInstall(state.version, deadline))
    return installing, effects


def _on_install_finished(state: OtaState, event: InstallFinished,
                         ctx: OtaContext) -> Transition:
    if state.phase != "installing":
        return state, []
    if event.ok and not ctx.fail_install:
        return (replace(state, phase="done", reason=None, running_version=state.version),
                [UnlockVehicle()])
    return _unsuccessful(state, "install_failed", rolled_back=event.rolled_back)


def _unsuccessful(state: OtaState, reason: OtaReason, *, rolled_back: bool) -> Transition:
    phase: OtaStateName = "rolled_back" if rolled_back else "failed"
    return replace(state, phase=phase, reason=reason), [UnlockVehicle(), RequestAssistance()]


def _on_ecall_started(state: OtaState) -> Transition:
    active = replace(state, ecall_active=True)
    if state.phase != "downloading":
        return active, []
    effects: list[Effect] = [] if state.interrupted else [StopDownload()]
    return replace(active, phase="waiting_ecall", pending="download", interrupted=False,
                   reason="ecall_active"), effects


def _on_ecall_cleared(state: OtaState, now: float, ctx: OtaContext) -> Transition:
    if state.phase != "waiting_ecall":
        return state, []
    if state.pending == "install":
        return _try_install(state, now, ctx)
    return _start_download(state, ctx)


def _on_tick(state: OtaState, now: float, ctx: OtaContext) -> Transition:
    match state.phase:
        case "notified":
            if state.ecall_active:
                return replace(state, phase="waiting_ecall", pending="download",
                               reason="ecall_active"), []
            return _start_download(state, ctx)
        case "downloaded":
            return replace(state, phase="awaiting_confirmation"), []
        case "refused" if now >= state.retry_at:
            return replace(state, phase="awaiting_confirmation", reason=None), []
        case "installing" if now >= state.install_deadline:
            return _unsuccessful(state, "timeout", rolled_back=ctx.can_roll_back)
    return state, []


def _drop(state: OtaState, reason: OtaReason) -> Transition:
    """End a campaign that has not started installing (customer cancel or switch-off)."""
    if state.phase not in _BEFORE_INSTALL:
        return state, []
    effects: list[Effect] = (
        [StopDownload()] if state.phase == "downloading" and not state.interrupted else [])
    return replace(state, phase="idle", reason=reason, pending=None, interrupted=False), effects


def _emit(state: OtaState, now: float, vin: str) -> Emit:
    return Emit(OtaEvent(vin=vin, campaign_id=state.campaign_id, version=state.version,
                         state=state.phase, at=now, bytes_done=state.bytes_done,
                         bytes_total=state.size_bytes, channel=state.channel,
                         reason=state.reason, running_version=state.running_version,
                         sent_ns=0))
