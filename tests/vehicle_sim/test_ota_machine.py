"""The car's OTA machine: notice, download, confirmation, install, and every rule around them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.ota import GB, OtaEvent, OtaOffer, pack_ota_event, unpack_ota_event
from vehicle_sim.ota_machine import (
    Cancel,
    Confirm,
    ConnectionBack,
    ConnectionLost,
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
    ScheduleRetry,
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
    wire_view,
)

SIZE = 2 * GB
OLD = "24-03-530"
NEW = "24-07-550"


def _ctx(**changes: Any) -> OtaContext:
    values: dict[str, Any] = {"vin": "WMW11GD0X0T000001", "os_version": 9,
                              "battery_soc": 0.8, "parked": True}
    return OtaContext(**(values | changes))


def _offer(*, critical: bool = False) -> Offer:
    return Offer(OtaOffer(campaign_id="rsu-1", version=NEW, size_bytes=SIZE,
                          critical=critical, release_notes="fixes", sent_ns=0))


def _run(events: list[Event], ctx: OtaContext, state: OtaState | None = None,
         start: float = 1000.0) -> tuple[OtaState, list[Effect]]:
    """Feed ``events`` one second apart; return the last state and all effects."""
    state = state or initial_state(ctx, running_version=OLD)
    effects: list[Effect] = []
    for i, event in enumerate(events):
        state, out = step(state, event, start + i, ctx)
        effects.extend(out)
    return state, effects


def _emits(effects: list[Effect]) -> list[OtaEvent]:
    return [e.event for e in effects if isinstance(e, Emit)]


DOWNLOADED: list[Event] = [_offer(), Tick(), DownloadProgress(SIZE), Tick()]


def test_ota_machine_happy_path_reaches_done_with_new_version() -> None:
    """Notice, download, confirmation and install end in done, running the new version."""
    ctx = _ctx()
    state, effects = _run([*DOWNLOADED, Confirm("app"), InstallFinished(ok=True)], ctx)
    assert state.phase == "done"
    assert state.running_version == NEW
    assert [e.state for e in _emits(effects)] == [
        "notified", "downloading", "downloaded", "awaiting_confirmation", "installing",
        "done"]
    assert StartDownload("sim", 0) in effects
    assert effects.index(LockVehicle()) < effects.index(UnlockVehicle())


def test_ota_machine_emits_progress_per_tenth_of_download() -> None:
    """Progress goes on the wire once per tenth, not once per chunk."""
    ctx = _ctx()
    state, effects = _run([_offer(), Tick(), *[DownloadProgress(SIZE // 100)] * 50], ctx)
    progress = [e for e in _emits(effects) if e.state == "downloading"]
    assert state.bytes_done == SIZE // 2
    assert len(progress) == 1 + 5  # the start, then 10 %, 20 %, ..., 50 %
    assert progress[-1].bytes_done == SIZE // 2


def test_ota_machine_waits_for_manual_confirmation() -> None:
    """A finished download never installs by itself, however much time passes."""
    ctx = _ctx()
    state, effects = _run([*DOWNLOADED, Tick(), Tick()], ctx)
    assert state.phase == "awaiting_confirmation"
    assert not any(isinstance(e, StartInstall) for e in effects)


def test_ota_machine_resumes_download_from_bytes_done_after_lost_connection() -> None:
    """After ConnectionLost, ConnectionBack restarts the transfer at the bytes already held."""
    ctx = _ctx()
    events: list[Event] = [_offer(), Tick(), DownloadProgress(GB // 2), ConnectionLost(),
                           DownloadProgress(GB), ConnectionBack("wifi")]
    state, effects = _run(events, ctx)
    assert state.bytes_done == GB // 2
    assert effects[-1] == StartDownload("wifi", GB // 2)
    assert [e.reason for e in _emits(effects)][-2:] == ["download_interrupted", None]
    state, _ = _run([DownloadProgress(SIZE - GB // 2)], ctx, state)
    assert state.phase == "downloaded"


def test_ota_machine_injected_connection_loss_cuts_at_the_byte() -> None:
    """lose_connection_at_bytes interrupts the transfer once, exactly there."""
    ctx = _ctx(lose_connection_at_bytes=GB)
    state, _ = _run([_offer(), Tick(), DownloadProgress(GB + 5)], ctx)
    assert (state.bytes_done, state.interrupted) == (GB, True)
    state, effects = _run([ConnectionBack(), DownloadProgress(SIZE)], ctx, state)
    assert StartDownload("sim", GB) in effects
    assert state.phase == "downloaded"


@pytest.mark.parametrize(("changes", "reason"), [
    ({"os_version": 8}, "os_too_old"),
    ({"battery_soc": 0.29}, "battery_low"),
    ({"parked": False}, "not_parked"),
])
def test_ota_machine_refuses_each_precondition_with_its_code(changes: dict[str, Any],
                                                             reason: str) -> None:
    """An unmet precondition at confirmation is reported with its reason and retried."""
    ctx = _ctx(**changes)
    state, effects = _run([*DOWNLOADED, Confirm("car")], ctx)
    assert state.phase == "refused"
    assert _emits(effects)[-1].reason == reason
    assert ScheduleRetry(ctx.retry_after_s) in effects
    assert not any(isinstance(e, LockVehicle | StartInstall) for e in effects)


def test_ota_machine_battery_threshold_is_a_model_parameter() -> None:
    """min_battery_soc moves the refusal line."""
    ctx = _ctx(battery_soc=0.25, min_battery_soc=0.2)
    state, _ = _run([*DOWNLOADED, Confirm("car")], ctx)
    assert state.phase == "installing"


def test_ota_machine_refused_campaign_is_offered_again_after_retry_delay() -> None:
    """After retry_after_s the campaign waits for a new manual confirmation."""
    ctx = _ctx(parked=False, retry_after_s=60.0)
    state, _ = _run([*DOWNLOADED, Confirm("car")], ctx)
    state, _ = step(state, Tick(), 1030.0, ctx)
    assert state.phase == "refused"
    state, _ = step(state, Tick(), 1070.0, ctx)
    assert state.phase == "awaiting_confirmation"
    state, _ = step(state, Confirm("app"), 1071.0, replace(ctx, parked=True))
    assert state.phase == "installing"


def test_ota_machine_switched_off_car_ignores_non_critical_offer() -> None:
    """No notice and no download for a car whose customer switched the service off."""
    ctx = _ctx(service_enabled=False)
    state, effects = _run([_offer(), Tick(), Tick()], ctx)
    assert state.phase == "idle"
    assert [(e.state, e.reason) for e in _emits(effects)] == [("idle", "service_switched_off")]
    assert not any(isinstance(e, StartDownload) for e in effects)


def test_ota_machine_switched_off_car_takes_critical_offer() -> None:
    """Critical security updates are the exception, and still need a confirmation."""
    ctx = _ctx(service_enabled=False)
    state, _ = _run([_offer(critical=True), Tick(), DownloadProgress(SIZE), Tick()], ctx)
    assert state.phase == "awaiting_confirmation"


def test_ota_machine_switch_off_drops_running_campaign_and_switch_on_takes_next() -> None:
    """SwitchOff stops a non-critical download; after SwitchOn new offers are noticed."""
    ctx = _ctx()
    state, effects = _run([_offer(), Tick(), SwitchOff()], ctx)
    assert state.phase == "idle"
    assert StopDownload() in effects
    state, _ = _run([SwitchOn(), _offer()], ctx, state)
    assert state.phase == "notified"


def test_ota_machine_ecall_postpones_download_start_and_resumes() -> None:
    """No download starts during an eCall; it starts when the eCall clears."""
    ctx = _ctx()
    state, effects = _run([EcallStarted(), _offer(), Tick()], ctx)
    assert (state.phase, state.reason) == ("waiting_ecall", "ecall_active")
    assert not any(isinstance(e, StartDownload) for e in effects)
    state, effects = _run([EcallCleared()], ctx, state)
    assert state.phase == "downloading"
    assert StartDownload("sim", 0) in effects


def test_ota_machine_ecall_pauses_running_download_and_resumes_from_bytes_done() -> None:
    """An eCall stops a transfer; the clear resumes it where it stopped."""
    ctx = _ctx()
    state, effects = _run([_offer(), Tick(), DownloadProgress(GB), EcallStarted()], ctx)
    assert state.phase == "waiting_ecall"
    assert StopDownload() in effects
    state, effects = _run([EcallCleared()], ctx, state)
    assert effects[-1] == StartDownload("sim", GB)


def test_ota_machine_ecall_postpones_install_and_retries_on_clear() -> None:
    """A confirmation during an eCall waits; the install starts when the eCall clears."""
    ctx = _ctx()
    state, effects = _run([*DOWNLOADED, EcallStarted(), Confirm("app")], ctx)
    assert state.phase == "waiting_ecall"
    assert not any(isinstance(e, StartInstall | LockVehicle) for e in effects)
    state, effects = _run([EcallCleared()], ctx, state)
    assert state.phase == "installing"
    assert LockVehicle() in effects


def test_ota_machine_stops_charging_and_never_resumes_it() -> None:
    """An EV's charging is interrupted for the install; nothing restarts it afterwards."""
    ctx = _ctx(charging=True)
    state, effects = _run([*DOWNLOADED, Confirm("car"), InstallFinished(ok=True), Tick()],
                          ctx)
    assert state.phase == "done"
    assert effects.count(StopCharging()) == 1
    names = {type(e).__name__.lower() for e in effects}
    assert not any("charg" in n and n != "stopcharging" for n in names)


def test_ota_machine_does_not_stop_charging_of_car_not_charging() -> None:
    """StopCharging is only for a car that is charging."""
    _, effects = _run([*DOWNLOADED, Confirm("car")], _ctx(charging=False))
    assert StopCharging() not in effects


def test_ota_machine_install_deadline_is_at_most_ten_minutes() -> None:
    """install_s over 600 s is refused; the installer deadline is now + install_s."""
    with pytest.raises(ValueError, match="10-minute"):
        _ctx(install_s=601.0)
    ctx = _ctx(install_s=300.0)
    _, effects = _run([*DOWNLOADED, Confirm("car")], ctx)
    assert StartInstall(NEW, 1004.0 + 300.0) in effects


def test_ota_machine_install_timeout_rolls_back_and_asks_assistance() -> None:
    """No report within install_s ends the attempt as a timeout, car unlocked."""
    ctx = _ctx(install_s=300.0)
    state, _ = _run([*DOWNLOADED, Confirm("car")], ctx)
    state, effects = step(state, Tick(), 1304.0, ctx)
    assert (state.phase, state.reason, state.running_version) == ("rolled_back", "timeout", OLD)
    assert UnlockVehicle() in effects
    assert RequestAssistance("failed_update") in effects


@pytest.mark.parametrize(("rolled_back", "phase"), [(True, "rolled_back"), (False, "failed")])
def test_ota_machine_failed_install_requests_assistance(rolled_back: bool, phase: str) -> None:
    """A failed installation ends rolled back or failed, keeps the old version, calls help."""
    ctx = _ctx()
    state, effects = _run(
        [*DOWNLOADED, Confirm("car"), InstallFinished(ok=False, rolled_back=rolled_back)], ctx)
    assert (state.phase, state.reason, state.running_version) == (phase, "install_failed", OLD)
    assert RequestAssistance("failed_update") in effects
    assert UnlockVehicle() in effects


def test_ota_machine_fail_install_injection_overrides_success() -> None:
    """fail_install turns a reported success into a failure."""
    state, _ = _run([*DOWNLOADED, Confirm("car"), InstallFinished(ok=True)],
                    _ctx(fail_install=True))
    assert state.phase == "rolled_back"


def test_ota_machine_retry_after_failure_needs_new_confirmation() -> None:
    """Retry brings the campaign back to awaiting_confirmation, not straight to install."""
    ctx = _ctx()
    state, _ = _run([*DOWNLOADED, Confirm("car"), InstallFinished(ok=False), Retry("app")],
                    ctx)
    assert state.phase == "awaiting_confirmation"


def test_ota_machine_cancel_before_install_returns_to_idle() -> None:
    """The customer can drop a campaign before it installs, but not during the install."""
    ctx = _ctx()
    state, effects = _run([*DOWNLOADED, Cancel("app")], ctx)
    assert (state.phase, _emits(effects)[-1].reason) == ("idle", "cancelled")
    state, _ = _run([*DOWNLOADED, Confirm("car"), Cancel("app")], ctx)
    assert state.phase == "installing"


def test_ota_machine_emit_is_a_valid_wire_event() -> None:
    """Each Emit becomes an OtaEvent that packs within budget and reads back equal."""
    ctx = _ctx()
    _, effects = _run([*DOWNLOADED, Confirm("car"), InstallFinished(ok=True)], ctx)
    for emitted in _emits(effects):
        event = replace(emitted, sent_ns=1)
        assert event.vin == ctx.vin
        assert unpack_ota_event(pack_ota_event(event)) == event


_EVENTS = st.one_of(
    st.builds(_offer, critical=st.booleans()),
    st.builds(DownloadProgress, st.integers(min_value=0, max_value=SIZE)),
    st.just(ConnectionLost()),
    st.builds(ConnectionBack, st.sampled_from([None, "sim", "wifi", "app"])),
    st.builds(Confirm, st.sampled_from(["car", "app"])),
    st.builds(Cancel, st.sampled_from(["car", "app"])),
    st.builds(Retry, st.sampled_from(["car", "app"])),
    st.builds(InstallFinished, st.booleans(), st.booleans()),
    st.sampled_from([EcallStarted(), EcallCleared(), SwitchOff(), SwitchOn(), Tick()]),
)
_CONTEXTS = st.builds(
    _ctx, os_version=st.sampled_from([8, 9, 12]), battery_soc=st.sampled_from([0.1, 0.9]),
    parked=st.booleans(), charging=st.booleans(), service_enabled=st.booleans(),
    ecall_active=st.booleans(), fail_install=st.booleans(),
    lose_connection_at_bytes=st.sampled_from([None, GB]))


@settings(max_examples=300, deadline=None)
@given(ctx=_CONTEXTS, events=st.lists(st.tuples(_EVENTS, st.floats(0, 400)), max_size=40))
def test_ota_machine_one_emit_per_state_change(ctx: OtaContext,
                                               events: list[tuple[Event, float]]) -> None:
    """Over any event sequence: one Emit per visible change, version moves only on done."""
    state = initial_state(ctx, running_version=OLD)
    now = 1000.0
    locked = False
    for event, gap in events:
        now += gap
        new, effects = step(state, event, now, ctx)
        emits = _emits(effects)
        assert len(emits) == (wire_view(new) != wire_view(state))
        for emit in emits:
            assert (emit.state, emit.reason, emit.bytes_done) == (
                new.phase, new.reason, new.bytes_done)
        if new.running_version != state.running_version:
            assert new.phase == "done" and state.phase == "installing"
        if any(isinstance(e, StartDownload | StartInstall) for e in effects):
            assert not new.ecall_active
        if any(isinstance(e, StartInstall) for e in effects):
            assert isinstance(event, Confirm | EcallCleared)
        locked = (locked or LockVehicle() in effects) and UnlockVehicle() not in effects
        assert locked == (new.phase == "installing")
        state = new
