"""The pure eCall machine: variant choice, the fallback chain, updates and stale events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vehicle_sim.ecall_machine import (
    ACK_TIMEOUT_S,
    Ack,
    AckReceived,
    AckTimeout,
    Clear,
    EcallContext,
    EcallState,
    Effect,
    Event,
    Log,
    SendMsd,
    StartTimer,
    Trigger,
    UpdateRequest,
    VoiceCall,
    choose_variant,
    step,
)

NOW = 1_700_000_000.25  # 2023-11-14 UTC
HOME = EcallContext(intelligent_bought=True, intelligent_expires=date(2031, 12, 31),
                    activation_country="BE", current_country="BE", in_ecall_country=True)


def _actions(effects: list[Effect]) -> list[Effect]:
    return [e for e in effects if not isinstance(e, Log)]


def _timer(effects: list[Effect]) -> StartTimer:
    return next(e for e in effects if isinstance(e, StartTimer))


def _triggered(ctx: EcallContext = HOME) -> tuple[EcallState, list[Effect]]:
    return step(EcallState(), Trigger(automatic=True, incident="inc-1"), NOW, ctx)


def _timed_out(state: EcallState, effects: list[Effect], ctx: EcallContext = HOME,
               ) -> tuple[EcallState, list[Effect]]:
    timer = _timer(effects)
    return step(state, AckTimeout("inc-1", timer.token), timer.deadline, ctx)


def test_step_intelligent_in_activation_country() -> None:
    """Bought, valid and at home: Intelligent MSD #1 with a T6 ack timer."""
    state, effects = _triggered()
    assert _actions(effects) == [SendMsd("intelligent", "inc-1", 1),
                                 StartTimer("inc-1", state.token, NOW + ACK_TIMEOUT_S)]
    assert (state.phase, state.variant, state.msg_id) == ("awaiting_ack", "intelligent", 1)
    assert state.timestamp == int(NOW) and state.automatic


def test_step_ack_connects() -> None:
    """The ack of the MSD just sent connects the call and arms nothing new."""
    state, _ = _triggered()
    state, effects = step(state, Ack("inc-1", 1, "callcentre"), NOW + 0.01, HOME)
    assert state.phase == "connected"
    assert _actions(effects) == [AckReceived("inc-1", 1, "callcentre")]


def test_step_not_bought_goes_legal() -> None:
    """Without the Intelligent contract the first call is Legal eCall."""
    _, effects = _triggered(replace(HOME, intelligent_bought=False))
    assert _actions(effects)[0] == SendMsd("legal", "inc-1", 1)
    assert any("not bought" in e.message for e in effects if isinstance(e, Log))


def test_step_expired_goes_legal() -> None:
    """A contract that ended before today falls back to Legal eCall."""
    ctx = replace(HOME, intelligent_expires=date(2024, 6, 30), today=date(2024, 7, 1))
    _, effects = _triggered(ctx)
    assert _actions(effects)[0] == SendMsd("legal", "inc-1", 1)


def test_choose_variant_expiry_judged_on_date_of_now() -> None:
    """Without ``today`` the expiry is judged on the UTC date of ``now``."""
    ctx = replace(HOME, intelligent_expires=date(2023, 11, 14))
    assert choose_variant(ctx, NOW)[0] == "intelligent"
    assert choose_variant(ctx, NOW + 86_400)[0] == "legal"


def test_step_intelligent_unreachable_times_out_to_legal() -> None:
    """No ack over a dead path: the timer moves on to Legal eCall with MSD #2."""
    ctx = replace(HOME, intelligent_unreachable=True)
    state, effects = _triggered(ctx)
    state, ignored = step(state, Ack("inc-1", 1, "callcentre"), NOW + 0.01, ctx)
    assert state.phase == "awaiting_ack" and _actions(ignored) == []
    state, effects = _timed_out(state, effects, ctx)
    assert _actions(effects)[0] == SendMsd("legal", "inc-1", 2)
    assert (state.variant, state.msg_id, state.timestamp) == ("legal", 2, int(NOW))
    assert _timer(effects).deadline == NOW + 2 * ACK_TIMEOUT_S


def test_step_legal_timeout_places_voice_call() -> None:
    """When Legal eCall is not acknowledged either, the last resort is a voice call."""
    state, effects = _triggered()
    state, effects = _timed_out(state, effects)
    state, effects = _timed_out(state, effects)
    assert _actions(effects) == [VoiceCall("BE", "inc-1")]
    assert state.phase == "voice" and state.variant == "psap_voice"


def test_step_intelligent_timeout_outside_eu_goes_voice() -> None:
    """At home outside the eCall area there is no Legal eCall to fall back on."""
    ctx = replace(HOME, activation_country="RS", current_country="RS", in_ecall_country=False)
    state, effects = _triggered(ctx)
    assert _actions(effects)[0] == SendMsd("intelligent", "inc-1", 1)
    _, effects = _timed_out(state, effects, ctx)
    assert _actions(effects) == [VoiceCall("RS", "inc-1")]


def test_step_abroad_in_eu_goes_legal() -> None:
    """A Belgian car in France gets Legal eCall only, even with a valid contract."""
    state, effects = _triggered(replace(HOME, current_country="FR"))
    assert _actions(effects)[0] == SendMsd("legal", "inc-1", 1)
    assert state.variant == "legal"


def test_step_abroad_outside_eu_goes_voice_without_data() -> None:
    """A Slovenian car in Serbia places a PSAP voice call and sends no MSD at all."""
    ctx = replace(HOME, activation_country="SI", current_country="RS", in_ecall_country=False)
    state, effects = _triggered(ctx)
    assert _actions(effects) == [VoiceCall("RS", "inc-1")]
    assert state.phase == "voice" and state.msg_id == 0


def test_step_update_request_when_connected_sends_next_msg_id() -> None:
    """An operator update gets MSD #2 on the same variant with the trigger's timestamp."""
    state, _ = _triggered()
    state, _ = step(state, Ack("inc-1", 1, "callcentre"), NOW + 0.01, HOME)
    state, effects = step(state, UpdateRequest("inc-1"), NOW + 30.0, HOME)
    assert _actions(effects) == [SendMsd("intelligent", "inc-1", 2)]
    assert (state.phase, state.msg_id, state.timestamp) == ("connected", 2, int(NOW))
    state, _ = step(state, Ack("inc-1", 2, "callcentre"), NOW + 30.01, HOME)
    assert state.phase == "connected"


def test_step_update_request_while_awaiting_restarts_timer() -> None:
    """Before the first ack an update restarts the timer, so the fallback still guards."""
    state, first = _triggered()
    state, effects = step(state, UpdateRequest("inc-1"), NOW + 1.0, HOME)
    assert _actions(effects) == [SendMsd("intelligent", "inc-1", 2),
                                 StartTimer("inc-1", state.token, NOW + 1.0 + ACK_TIMEOUT_S)]
    state, stale = _timed_out(state, first)
    assert state.phase == "awaiting_ack" and _actions(stale) == []
    state, _ = step(state, Ack("inc-1", 1, "callcentre"), NOW + 1.5, HOME)
    assert state.phase == "connected"


def test_step_update_request_during_voice_call_ignored() -> None:
    """A PSAP voice call carries no data, so there is nothing to update."""
    ctx = replace(HOME, current_country="RS", in_ecall_country=False)
    state, _ = _triggered(ctx)
    after, effects = step(state, UpdateRequest("inc-1"), NOW + 5.0, ctx)
    assert after == state and _actions(effects) == []


def test_step_stale_timeout_ignored() -> None:
    """A timer with an old token, or one that fires after the ack, changes nothing."""
    state, effects = _triggered()
    token = _timer(effects).token
    after, out = step(state, AckTimeout("inc-1", token - 1), NOW + 5.0, HOME)
    assert after == state and _actions(out) == []
    connected, _ = step(state, Ack("inc-1", 1, "callcentre"), NOW + 0.01, HOME)
    after, out = step(connected, AckTimeout("inc-1", token), NOW + 5.0, HOME)
    assert after == connected and _actions(out) == []


def test_step_late_ack_of_abandoned_variant_ignored() -> None:
    """An ack of Intelligent MSD #1 arriving after the fallback does not connect Legal."""
    state, effects = _triggered()
    state, _ = _timed_out(state, effects)
    after, out = step(state, Ack("inc-1", 1, "callcentre"), NOW + 5.1, HOME)
    assert after == state and any("stale" in e.message for e in out if isinstance(e, Log))


def test_step_second_trigger_ignored() -> None:
    """A second crash or SOS press during an active incident does not start another."""
    state, _ = _triggered()
    after, effects = step(state, Trigger(automatic=False, incident="inc-2"), NOW + 1.0, HOME)
    assert after == state and _actions(effects) == []
    assert any("ignored" in e.message for e in effects if isinstance(e, Log))


def test_step_clear_frees_car_and_old_timer_stays_stale() -> None:
    """After Clear a new incident starts at MSD #1; the old incident's timer is stale."""
    state, first = _triggered()
    state, _ = step(state, Clear("inc-1"), NOW + 1.0, HOME)
    assert state.phase == "idle"
    state, effects = step(state, Trigger(automatic=False, incident="inc-2"), NOW + 2.0, HOME)
    assert _actions(effects)[0] == SendMsd("intelligent", "inc-2", 1)
    assert state.timestamp == int(NOW + 2.0) and not state.automatic
    old = _timer(first)
    after, _ = step(state, AckTimeout("inc-2", old.token), old.deadline, HOME)
    assert after == state


def test_step_ack_timeout_from_context() -> None:
    """Scenarios may shorten the wait for the acknowledgement."""
    _, effects = _triggered(replace(HOME, ack_timeout_s=0.5))
    assert _timer(effects).deadline == NOW + 0.5


def test_step_update_refused_when_msg_id_exhausted() -> None:
    """messageIdentifier is 0..255; the car refuses an update past 255."""
    state, _ = _triggered()
    state = replace(state, phase="connected", msg_id=255)
    after, effects = step(state, UpdateRequest("inc-1"), NOW + 1.0, HOME)
    assert after == state and _actions(effects) == []


def test_ecall_context_rejects_non_positive_timeout() -> None:
    """A zero ack timer would fall back before any answer could arrive."""
    with pytest.raises(ValueError, match="ack_timeout_s"):
        replace(HOME, ack_timeout_s=0.0)


_events = st.lists(st.one_of(
    st.builds(Ack, st.just("inc-1"), st.integers(0, 8), st.just("r")),
    st.builds(AckTimeout, st.just("inc-1"), st.integers(0, 8)),
    st.builds(UpdateRequest, st.just("inc-1")),
    st.builds(Trigger, st.booleans(), st.just("inc-9")),
    st.just("fire"),  # the timer the machine armed last fires
), max_size=30)


@given(events=_events, in_eu=st.booleans(), unreachable=st.booleans())
def test_step_msg_id_monotonic_and_timestamp_fixed(events: list[Event | str], in_eu: bool,
                                                   unreachable: bool) -> None:
    """Every MSD of an incident has the next msg_id, the same timestamp and one variant
    change at most along intelligent -> legal."""
    ctx = replace(HOME, in_ecall_country=in_eu, intelligent_unreachable=unreachable)
    state, effects = _triggered(ctx)
    sent = [e for e in effects if isinstance(e, SendMsd)]
    timer = _timer(effects)
    now = NOW
    for item in events:
        now += 0.5
        event = AckTimeout("inc-1", timer.token) if item == "fire" else item
        assert not isinstance(event, str)
        state, effects = step(state, event, now, ctx)
        sent += [e for e in effects if isinstance(e, SendMsd)]
        timer = next((e for e in effects if isinstance(e, StartTimer)), timer)
        assert state.timestamp == int(NOW) and state.incident == "inc-1"
    assert [m.msg_id for m in sent] == list(range(1, len(sent) + 1))
    variants = [m.variant for m in sent]
    assert variants == sorted(variants, key=["intelligent", "legal"].index)


def _sent(effects: list[Effect]) -> list[SendMsd | VoiceCall]:
    return [e for e in effects if isinstance(e, SendMsd | VoiceCall)]


def test_step_late_acks_are_taken_after_the_timer_and_the_chain_goes_on() -> None:
    """Intelligent and Legal acks held back by a late-ack fault: each MSD was sent (the
    backend has it), the car falls back to voice, and each ack is taken in only after
    its attempt's timer fired, stale by then."""
    ctx = replace(HOME, late_acks=frozenset({"intelligent", "legal"}))
    state, effects = _triggered(ctx)
    state, held = step(state, Ack("inc-1", 1, "callcentre"), NOW + 0.01, ctx)
    assert state.phase == "awaiting_ack" and _actions(held) == []
    state, moved = _timed_out(state, effects, ctx)
    assert _sent(moved) == [SendMsd("legal", "inc-1", 2)]
    assert AckReceived("inc-1", 1, "callcentre") in moved  # delivered now, after the timer
    assert state.phase == "awaiting_ack" and state.held == ()
    state, _ = step(state, Ack("inc-1", 2, "psap-BE"), NOW + 1.0, ctx)
    state, last = _timed_out(state, moved, ctx)
    assert _sent(last) == [VoiceCall("BE", "inc-1")]
    assert AckReceived("inc-1", 2, "psap-BE") in last
    assert state.phase == "voice"  # a late Legal ack never connects the voice call's state


def test_step_late_intelligent_ack_then_legal_on_time_connects_legal() -> None:
    """Only Intelligent acks are late: Legal is acknowledged in time and connects."""
    ctx = replace(HOME, late_acks=frozenset({"intelligent"}))
    state, effects = _triggered(ctx)
    state, _ = step(state, Ack("inc-1", 1, "callcentre"), NOW + 0.01, ctx)
    state, _ = _timed_out(state, effects, ctx)
    state, out = step(state, Ack("inc-1", 2, "psap-BE"), NOW + 5.1, ctx)
    assert (state.phase, state.variant) == ("connected", "legal")
    assert _actions(out) == [AckReceived("inc-1", 2, "psap-BE")]


def test_step_lost_ack_never_reaches_the_car() -> None:
    """A lost Intelligent ack is not taken in at all; the timer moves the chain on."""
    ctx = replace(HOME, lost_acks=frozenset({"intelligent"}))
    state, effects = _triggered(ctx)
    after, out = step(state, Ack("inc-1", 1, "callcentre"), NOW + 0.01, ctx)
    assert after == state and _actions(out) == []
    assert any("lost" in e.message for e in out if isinstance(e, Log))
    state, moved = _timed_out(state, effects, ctx)
    assert _sent(moved) == [SendMsd("legal", "inc-1", 2)]


def test_ecall_context_ack_fate() -> None:
    """Lost wins over late; a variant named in neither is acknowledged on time."""
    ctx = replace(HOME, late_acks=frozenset({"intelligent", "legal"}),
                  lost_acks=frozenset({"legal"}))
    assert [ctx.ack_fate(v) for v in ("intelligent", "legal", "psap_voice")] == [
        "late", "lost", "on_time"]
