"""A car's Remote Software Upgrade on the wire: the pure OTA machine driven by real time.

``vehicle_sim.ota_machine`` decides; this class performs its effects. The transfer of
1-10 GB and the installer are modelled, not real: a download arrives in tenths over
``download_s`` real seconds (so a scenario shows progress without moving gigabytes),
and the installer answers after ``install_real_s``. Everything the backend can see goes
out as an ``OtaEvent`` on ``tcu/v1/{vin}/ota/event``, stamped when it is published.

What the car's owner does (confirm, cancel, switch the service off) and what happens
to the car (an eCall, charging, parking) come in as methods; the scenario runner and the
downlink call them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from protocols.ota import (
    CommandSource,
    DownloadChannel,
    OtaCommand,
    OtaEvent,
    OtaOffer,
    OtaStateName,
    pack_ota_event,
)
from protocols.topics import Publish, ota_event_topic
from vehicle_sim.mqtt_transport import Notify
from vehicle_sim.ota_machine import (
    Cancel,
    Confirm,
    ConnectionBack,
    DownloadProgress,
    EcallCleared,
    EcallStarted,
    Effect,
    Emit,
    Event,
    InstallFinished,
    LockVehicle,
    Offer,
    OtaContext,
    OtaState,
    RequestAssistance,
    Retry,
    StartDownload,
    StartInstall,
    StopCharging,
    StopDownload,
    SwitchOff,
    SwitchOn,
    Tick,
    UnlockVehicle,
    initial_state,
    step,
)

# Phases in which the car waits for nobody but itself (a transfer, an installer, a tick).
BUSY: Final[frozenset[OtaStateName]] = frozenset(
    {"notified", "downloading", "downloaded", "installing"})
RECONNECT_STEPS: Final = 2  # a lost link comes back after this many download steps


@dataclass(frozen=True, slots=True, kw_only=True)
class OtaCarSettings:
    """The car's side of an update: its conditions and the customer's habits."""

    running_version: str = "21.07"
    battery_soc: float = 0.8
    parked: bool = True
    charging: bool = False
    service_enabled: bool = True
    auto_confirm: bool = False
    channel: DownloadChannel = "sim"
    download_s: float = 0.5
    install_s: float = 600.0
    install_real_s: float = 0.3
    fail_install: bool = False
    can_roll_back: bool = True
    lose_connection_at: float | None = None  # share of the download at which the link drops


class CarOta:
    """One car's update machine with its timers, its history and its customer."""

    def __init__(self, *, vin: str, os_version: int, settings: OtaCarSettings,
                 clock: Callable[[], float], publish: Publish, notify: Notify,
                 request_assistance: Callable[[], None], label: str,
                 real_ns: Callable[[], int]) -> None:
        self.vin = vin
        self.os_version = os_version
        self.settings = settings
        self.battery_soc = settings.battery_soc
        self.parked = settings.parked
        self.charging = settings.charging
        self.locked = False
        self.charging_stopped = False
        self.events: list[OtaEvent] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._clock = clock
        self._publish = publish
        self._notify = notify
        self._assistance = request_assistance
        self._label = label
        self._real_ns = real_ns
        self._transfer: asyncio.Task[None] | None = None
        self._installer: asyncio.TimerHandle | None = None
        self.state: OtaState = initial_state(self._context(0),
                                             running_version=settings.running_version)

    # -- what the backend and the customer do ------------------------------------------
    def offer(self, offer: OtaOffer) -> None:
        self._apply(Offer(offer))
        self._apply(Tick())  # the notice is shown; the download starts on its own

    def command(self, command: OtaCommand) -> None:
        """A command from the app (through the backend) or the backend's withdrawal."""
        if command.campaign_id != self.state.campaign_id:
            self._notify(f"{self._label}: OTA command for {command.campaign_id} ignored "
                         "(not the campaign on this car)")
            return
        self.customer(command.action, command.by)

    def customer(self, action: str, by: CommandSource) -> None:
        if action == "confirm":
            self._apply(Confirm(by))
        elif action == "cancel":
            self._apply(Cancel(by))
        elif action == "retry":
            self._apply(Retry(by))

    def switch(self, *, enabled: bool) -> None:
        self._apply(SwitchOn() if enabled else SwitchOff())

    def set_battery(self, soc: float, *, charging: bool | None = None) -> None:
        self.battery_soc = soc
        if charging is not None:
            self.charging = charging

    def ecall_started(self) -> None:
        self._apply(EcallStarted())

    def ecall_cleared(self) -> None:
        self._apply(EcallCleared())

    def tick(self) -> None:
        """Time moved (a scenario jump): retries and the install deadline are judged."""
        self._apply(Tick())

    @property
    def phase(self) -> OtaStateName:
        return self.state.phase

    def busy(self) -> bool:
        """Whether the machine will still move by itself (a transfer, an installer)."""
        return self.state.phase in BUSY or (
            self.state.phase == "awaiting_confirmation" and self.settings.auto_confirm)

    async def wait_phase(self, phase: OtaStateName, timeout_s: float) -> bool:
        """Until the machine is in ``phase``; False when it did not get there in time."""
        return await self._wait_until(lambda: self.phase == phase, timeout_s)

    async def wait_quiet(self, timeout_s: float) -> bool:
        """Until nothing more happens without the customer or the backend."""
        return await self._wait_until(lambda: not self.busy(), timeout_s)

    async def _wait_until(self, holds: Callable[[], bool], timeout_s: float) -> bool:
        if holds():
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (holds, future)
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return True

    def stop(self) -> None:
        if self._transfer is not None:
            self._transfer.cancel()
        if self._installer is not None:
            self._installer.cancel()

    # -- the machine -----------------------------------------------------------------
    def _context(self, size_bytes: int) -> OtaContext:
        s = self.settings
        cut = None
        if s.lose_connection_at is not None and size_bytes:
            cut = int(size_bytes * s.lose_connection_at)
        return OtaContext(vin=self.vin, os_version=self.os_version,
                          battery_soc=self.battery_soc, parked=self.parked,
                          charging=self.charging, service_enabled=s.service_enabled,
                          channel=s.channel, install_s=s.install_s,
                          can_roll_back=s.can_roll_back, fail_install=s.fail_install,
                          lose_connection_at_bytes=cut)

    def _apply(self, event: Event) -> None:
        self.state, effects = step(self.state, event, self._clock(),
                                   self._context(self.state.size_bytes))
        for effect in effects:
            self._perform(effect)
        self._wake()
        if self.state.phase == "downloaded":
            self._apply(Tick())  # the car tells the customer the update is ready
        elif self.state.phase == "awaiting_confirmation" and self.settings.auto_confirm \
                and not isinstance(event, Confirm):
            self._apply(Confirm("car"))

    def _wake(self) -> None:
        """Resolve the waiters whose condition now holds; called after every step."""
        for holds, future in list(self._waiters):
            if not future.done() and holds():
                future.set_result(None)

    def _perform(self, effect: Effect) -> None:
        if isinstance(effect, Emit):
            self._send(effect.event)
        elif isinstance(effect, StartDownload):
            self._start_transfer(effect)
        elif isinstance(effect, StopDownload):
            if self._transfer is not None:
                self._transfer.cancel()
        elif isinstance(effect, StartInstall):
            loop = asyncio.get_running_loop()
            # The installer's own verdict; a car set to fail is failed by the machine.
            finished = InstallFinished(ok=True, rolled_back=self.settings.can_roll_back)
            self._installer = loop.call_later(self.settings.install_real_s, self._apply,
                                              finished)
        elif isinstance(effect, StopCharging):
            self.charging, self.charging_stopped = False, True
            self._notify(f"{self._label}: charging interrupted for the update; it stays "
                         "off until the customer restarts it")
        elif isinstance(effect, LockVehicle):
            self.locked = True
        elif isinstance(effect, UnlockVehicle):
            self.locked = False
        elif isinstance(effect, RequestAssistance):
            self._assistance()

    def _send(self, event: OtaEvent) -> None:
        stamped = replace(event, sent_ns=self._real_ns())
        self.events.append(stamped)
        self._publish(ota_event_topic(self.vin), pack_ota_event(stamped))
        if event.state != "downloading" or event.bytes_done == 0 or event.reason:
            why = f" ({event.reason})" if event.reason else ""
            self._notify(f"{self._label}: OTA {event.campaign_id} {event.version}: "
                         f"{event.state}{why}")

    def _start_transfer(self, start: StartDownload) -> None:
        if self._transfer is not None:
            self._transfer.cancel()
        self._transfer = asyncio.get_running_loop().create_task(self._download(start))

    async def _download(self, start: StartDownload) -> None:
        """Bytes arrive in tenths; a dropped link comes back and resumes, as OTA-R4 allows."""
        steps = 10
        chunk = max(1, self.state.size_bytes // steps)
        pause = self.settings.download_s / steps
        while self.state.phase == "downloading":
            await asyncio.sleep(pause)  # the modelled transfer time of one tenth
            if self.state.interrupted:
                await asyncio.sleep(pause * RECONNECT_STEPS)  # modelled time without a link
                self._apply(ConnectionBack(start.channel))
                return  # ConnectionBack starts a new transfer from bytes_done
            self._apply(DownloadProgress(chunk))
