"""One load car's side of an OTA wave: the emulator's pure OTA machine on handed-in timers.

``vehicle_sim.ota_machine`` decides, as it does for the emulator's cars
(``vehicle_sim.car_ota``, which runs on asyncio); here the effects run on the load car's
own timers (``call_later``) and publisher, so a car under Locust needs no event loop of its
own. The transfer and the installer are modelled the same way: a download arrives in
tenths over ``download_s`` real seconds, the installer answers after ``install_s``. The
customer confirms in the car as soon as the car asks (a wave measures the backend, not a
driver's patience). Every ``OtaEvent`` goes out on ``tcu/v1/{vin}/ota/event``.

Measured: the campaign's scheduled moment to the offer at the car (``ota_offer``), and
the offer to the last tenth of the download (``ota_download``, the car's transfer as its
timers keep up with the fleet's load).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from loadtest.recorder import Recorder
from protocols.ota import OtaOffer, pack_ota_event
from protocols.topics import ota_event_topic
from vehicle_sim.ota_machine import (
    PROGRESS_STEPS,
    Confirm,
    DownloadProgress,
    Emit,
    Event,
    InstallFinished,
    Offer,
    OtaContext,
    OtaState,
    StartDownload,
    StartInstall,
    Tick,
    initial_state,
    step,
)

RUNNING_VERSION: Final = "21.07"
OS_VERSION: Final = 9  # the lowest that may update (OTA-R1): every load car is eligible

Send = Callable[[str, bytes], None]
CallLater = Callable[[float, Callable[[], None]], None]


class FleetOta:
    """A parked, charged car that downloads, confirms and installs what it is offered."""

    def __init__(self, vin: str, *, download_s: float, install_s: float, send: Send,
                 call_later: CallLater, recorder: Recorder, clock: Callable[[], float],
                 real_ns: Callable[[], int]) -> None:
        self.vin = vin
        self._download_s = download_s
        self._install_s = install_s
        self._send = send
        self._call_later = call_later
        self._recorder = recorder
        self._clock = clock
        self._real_ns = real_ns
        self._context = OtaContext(vin=vin, os_version=OS_VERSION, battery_soc=0.8,
                                   parked=True)
        self.state: OtaState = initial_state(self._context, running_version=RUNNING_VERSION)
        self._transfer = 0  # the current transfer's number: a stale tenth is dropped
        self._early_offer_ns: int | None = None

    def expect_offer(self, scheduled_ns: int) -> None:
        """The campaign is due: its offer is awaited from ``scheduled_ns``. A loaded
        process may get round to this after the offer came; it is then timed as it came."""
        self._recorder.count("ota_expected")
        self._recorder.expect("ota_offer", self.vin, scheduled_ns)
        if self._early_offer_ns is not None:
            self._offered(self._early_offer_ns)

    def offer(self, offer: OtaOffer) -> None:
        if self._recorder.waiting("ota_offer", self.vin):
            self._offered(self._real_ns())
        elif self._early_offer_ns is None and self.state.phase == "idle":
            self._early_offer_ns = self._real_ns()  # before its moment, or another run's
        else:
            self._recorder.count("ota_offer_repeated")
        download = (self.vin, offer.campaign_id)
        if not self._recorder.waiting("ota_download", download):
            self._recorder.expect("ota_download", download, self._real_ns())
        self._apply(Offer(offer))
        self._apply(Tick())  # the notice is shown; the download starts on its own

    def _offered(self, at_ns: int) -> None:
        self._early_offer_ns = None
        self._recorder.done("ota_offer", self.vin, at_ns=at_ns)
        self._recorder.count("ota_offered")

    def _apply(self, event: Event) -> None:
        self.state, effects = step(self.state, event, self._clock(), self._context)
        for effect in effects:
            if isinstance(effect, Emit):
                stamped = replace(effect.event, sent_ns=self._real_ns())
                self._recorder.count(f"ota_event_{stamped.state}")
                self._send(ota_event_topic(self.vin), pack_ota_event(stamped))
            elif isinstance(effect, StartDownload):
                self._transfer += 1
                self._next_tenth(self._transfer)
            elif isinstance(effect, StartInstall):
                self._call_later(self._install_s,
                                 functools.partial(self._apply, InstallFinished(ok=True)))
        if self.state.phase == "downloaded":
            self._recorder.done("ota_download", (self.vin, self.state.campaign_id))
            self._apply(Tick())  # the car tells the customer the update is ready
        elif self.state.phase == "awaiting_confirmation" and not isinstance(event, Confirm):
            self._apply(Confirm("car"))

    def _next_tenth(self, transfer: int) -> None:
        self._call_later(self._download_s / PROGRESS_STEPS,
                         functools.partial(self._tenth, transfer))

    def _tenth(self, transfer: int) -> None:
        if transfer != self._transfer or self.state.phase != "downloading":
            return
        self._apply(DownloadProgress(max(1, self.state.size_bytes // PROGRESS_STEPS)))
        if self.state.phase == "downloading":
            self._next_tenth(transfer)
