"""The car's OTA actor: the machine's effects performed with timers, events on the wire."""

from __future__ import annotations

from dataclasses import replace

from protocols.ota import (
    GB,
    OTA_EVENT_MAX,
    OtaCommand,
    OtaEvent,
    OtaOffer,
    unpack_ota_event,
)
from protocols.topics import ota_event_topic, parse_topic
from vehicle_sim.car_ota import CarOta, OtaCarSettings

VIN = "WMW11DJ0X0T977001"
FAST = OtaCarSettings(download_s=0.05, install_real_s=0.01, auto_confirm=True)


class Wire:
    """What the car published and said, and the assistance calls it raised."""

    def __init__(self) -> None:
        self.events: list[OtaEvent] = []
        self.sizes: list[int] = []
        self.assistance = 0
        self.now = 1_800_000_000.0

    def publish(self, topic: str, payload: bytes) -> None:
        assert parse_topic(topic).kind == "ota_event" and topic == ota_event_topic(VIN)
        self.sizes.append(len(payload))
        self.events.append(unpack_ota_event(payload))

    def help(self) -> None:
        self.assistance += 1

    def phases(self) -> list[str]:
        return [e.state for e in self.events]


def _car(wire: Wire, settings: OtaCarSettings = FAST, *, os_version: int = 10) -> CarOta:
    return CarOta(vin=VIN, os_version=os_version, settings=settings, clock=lambda: wire.now,
                  publish=wire.publish, notify=lambda _m: None, request_assistance=wire.help,
                  label="car", real_ns=lambda: 42)


def _phase(car: CarOta) -> str:
    """``car``'s phase, read afresh: a type checker keeps ``car.phase`` narrowed across calls."""
    return car.phase


def _offer(campaign: str = "c1", size: int = 2 * GB) -> OtaOffer:
    return OtaOffer(campaign_id=campaign, version="24.03", size_bytes=size, critical=False,
                    release_notes="", sent_ns=1)


async def test_car_ota_confirmed_update_installs_and_reports_every_change() -> None:
    wire = Wire()
    car = _car(wire)
    car.offer(_offer())
    assert await car.wait_phase("done", 5.0)
    assert wire.phases()[0] == "notified" and wire.phases()[-1] == "done"
    assert wire.phases()[-3:] == ["awaiting_confirmation", "installing", "done"]
    progress = [e.bytes_done for e in wire.events if e.state == "downloading"]
    assert progress == sorted(progress) and len(progress) >= 10
    assert wire.events[-1].running_version == "24.03"
    assert all(size <= OTA_EVENT_MAX for size in wire.sizes)
    assert {e.sent_ns for e in wire.events} == {42}  # stamped when published
    assert not car.locked and wire.assistance == 0


async def test_car_ota_lost_link_resumes_from_the_bytes_received() -> None:
    wire = Wire()
    car = _car(wire, replace(FAST, lose_connection_at=0.4))
    car.offer(_offer())
    assert await car.wait_phase("done", 5.0)
    cut = next(e for e in wire.events if e.reason == "download_interrupted")
    assert cut.bytes_done == int(0.4 * 2 * GB)
    after = [e.bytes_done for e in wire.events[wire.events.index(cut) + 1:]
             if e.state == "downloading"]
    assert after and min(after) >= cut.bytes_done  # resumed, not restarted from zero


async def test_car_ota_low_battery_refuses_then_retries_after_charging() -> None:
    wire = Wire()
    car = _car(wire, replace(FAST, auto_confirm=False, battery_soc=0.2))
    car.offer(_offer())
    assert await car.wait_phase("awaiting_confirmation", 5.0)
    car.command(OtaCommand(campaign_id="c1", action="confirm", by="app"))
    assert (car.phase, wire.events[-1].reason) == ("refused", "battery_low")
    car.set_battery(0.9)
    car.tick()
    assert _phase(car) == "refused"  # not before the retry time
    wire.now += 3600.0
    car.tick()
    assert _phase(car) == "awaiting_confirmation"
    car.customer("confirm", "car")
    assert await car.wait_phase("done", 5.0)


async def test_car_ota_waits_for_the_ecall_to_end() -> None:
    wire = Wire()
    car = _car(wire)
    car.ecall_started()
    car.offer(_offer())
    assert (car.phase, wire.events[-1].reason) == ("waiting_ecall", "ecall_active")
    assert not car.busy()
    assert not await car.wait_phase("downloading", 0.1)
    car.ecall_cleared()
    assert await car.wait_phase("done", 5.0)


async def test_car_ota_failed_install_stops_charging_and_calls_assistance() -> None:
    wire = Wire()
    car = _car(wire, replace(FAST, fail_install=True, can_roll_back=False, charging=True))
    car.offer(_offer())
    assert await car.wait_phase("failed", 5.0)
    assert wire.events[-1].reason == "install_failed"
    assert wire.events[-1].running_version == "21.07"
    assert car.charging_stopped and not car.charging  # stays off until the customer acts
    assert wire.assistance == 1 and not car.locked


async def test_car_ota_ignores_a_command_for_another_campaign() -> None:
    wire = Wire()
    car = _car(wire, replace(FAST, auto_confirm=False))
    car.offer(_offer())
    assert await car.wait_phase("awaiting_confirmation", 5.0)
    car.command(OtaCommand(campaign_id="other", action="confirm", by="app"))
    assert car.phase == "awaiting_confirmation"
    car.command(OtaCommand(campaign_id="c1", action="cancel", by="backend"))
    assert (car.phase, wire.events[-1].reason) == ("idle", "cancelled")
