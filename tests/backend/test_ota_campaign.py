"""OTA campaigns, pure: targeting, grouping, thresholds, pause, cancel and timeouts."""

from __future__ import annotations

from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.ota.campaign import (
    FINAL,
    VEHICLE_REPORTS,
    VEHICLE_STATUSES,
    Action,
    Campaign,
    CampaignSpec,
    CancelOffer,
    Finished,
    Offer,
    Paused,
    RolloutGroup,
    TargetSelector,
    VehicleFacts,
    VehicleReport,
    cancel,
    on_vehicle_event,
    pause,
    plan,
    progress,
    resume,
    start,
    tick,
)
from backend.ota.errors import CampaignSpecError, CampaignTransitionError

T0 = 1_767_225_600.0
GB = 1_000_000_000
HOUR = 3_600.0


def _car(n: int, *, model: str = "cooper_se", propulsion: str = "BEV", os_version: int = 9,
         country: str = "NL") -> VehicleFacts:
    return VehicleFacts(f"WMW00000000{n:06d}", model, propulsion, os_version, country)


def _spec(*groups: RolloutGroup, target: TargetSelector | None = None) -> CampaignSpec:
    return CampaignSpec("camp-1", "24-07.1", 3 * GB, target or TargetSelector(),
                        groups or (RolloutGroup("all", share=1.0, success_threshold=1.0,
                                                error_threshold=0.5),),
                        action_timeout_s=HOUR)


def _three_groups() -> tuple[RolloutGroup, ...]:
    return (RolloutGroup("pilot", size=2, success_threshold=0.5, error_threshold=0.5),
            RolloutGroup("wave", share=0.3, success_threshold=0.75, error_threshold=0.5),
            RolloutGroup("rest", share=0.5, success_threshold=1.0, error_threshold=0.5))


def _report(c: Campaign, vins: tuple[str, ...], state: VehicleReport, now: float,
            reason: str = "") -> tuple[Campaign, list[Action]]:
    actions: list[Action] = []
    for vin in vins:
        c, more = on_vehicle_event(c, vin, state, reason=reason, now=now)
        actions.extend(more)
    return c, actions


@pytest.mark.parametrize(("target", "expected"), [
    (TargetSelector(models=("countryman",)), {2}),
    (TargetSelector(propulsions=("ICE",)), {3}),
    (TargetSelector(min_os=10), {4}),
    (TargetSelector(max_os=9), {1, 2, 3}),
    (TargetSelector(countries=("BE",)), {1}),
    (TargetSelector(vins=(_car(3).vin, _car(5).vin)), {3}),
    (TargetSelector(models=("cooper_se",), countries=("NL",)), {4}),
])
def test_ota_campaign_target_selector_each_criterion(target: TargetSelector,
                                                     expected: set[int]) -> None:
    """Each criterion narrows the fleet, criteria combine with AND, OS 8 never matches."""
    fleet = [_car(1, country="BE"), _car(2, model="countryman"), _car(3, propulsion="ICE",
             model="cooper"), _car(4, os_version=11), _car(5, os_version=8)]
    assert {n for n, car in enumerate(fleet, 1) if target.matches(car)} == expected


def test_ota_campaign_spec_rejects_size_outside_one_to_ten_gb() -> None:
    """The download must be 1 to 10 GB; the error names the field."""
    with pytest.raises(CampaignSpecError, match=r"outside 1\.\.10 GB") as err:
        CampaignSpec("c", "v", 11 * GB, TargetSelector(),
                     (RolloutGroup("g", share=1.0),), action_timeout_s=HOUR)
    assert err.value.field == "size_bytes"
    with pytest.raises(CampaignSpecError, match="give share or size") as err:
        RolloutGroup("g", share=0.5, size=3)
    assert err.value.rule == "exactly one of share and size"
    with pytest.raises(CampaignSpecError, match=r"share 0\.0"):
        RolloutGroup("g", share=0.0)
    with pytest.raises(CampaignSpecError, match="size 0"):
        RolloutGroup("g", size=0)


def test_ota_campaign_plan_groups_are_deterministic() -> None:
    """Cars are split by sorted VIN with cumulative shares; fleet order does not matter."""
    fleet = [_car(n) for n in range(10)]
    c = plan(_spec(*_three_groups()), fleet[::-1])
    assert c.members == plan(_spec(*_three_groups()), fleet).members
    assert [len(m) for m in c.members] == [2, 3, 5]
    assert [vin for group in c.members for vin in group] == sorted(v.vin for v in fleet)
    assert c.status == "planned"


def test_ota_campaign_three_groups_progress_on_success_thresholds() -> None:
    """Each group starts when the one before reaches its success threshold; then finished."""
    c = plan(_spec(*_three_groups()), [_car(n) for n in range(10)])
    pilot, wave, rest = c.members
    c, actions = start(c, now=T0)
    assert actions == [Offer(pilot, "pilot")]
    c, actions = _report(c, pilot[:1], "done", T0 + 1)
    assert actions == [Offer(wave, "wave")]
    c, actions = _report(c, wave[:2], "done", T0 + 2)
    assert actions == []
    c, actions = _report(c, wave[2:], "installing", T0 + 3)
    c, actions = _report(c, wave[2:], "done", T0 + 4)
    assert actions == [Offer(rest, "rest")]
    c, actions = _report(c, rest, "done", T0 + 5)
    assert actions == [] and c.status == "running"
    c, actions = _report(c, pilot[1:], "refused", T0 + 6, "customer_declined")
    assert actions == [Finished("camp-1")]
    assert c.status == "finished"


def test_ota_campaign_pauses_at_error_threshold_and_resumes() -> None:
    """Failures reaching the threshold pause; resume continues; a new failure pauses again."""
    group = RolloutGroup("all", share=1.0, success_threshold=0.6, error_threshold=0.2)
    c = plan(_spec(group), [_car(n) for n in range(10)])
    vins = c.members[0]
    c, _ = start(c, now=T0)
    c, actions = _report(c, vins[:1], "failed", T0 + 1, "battery_low")
    assert actions == [] and c.status == "running"
    c, actions = _report(c, vins[1:2], "failed", T0 + 2, "checksum_mismatch")
    assert actions == [Paused("error_threshold", "all")]
    assert (c.status, c.paused_reason) == ("paused", "error_threshold")
    c, actions = _report(c, vins[2:5], "done", T0 + 3)
    assert actions == [] and c.status == "paused"
    c, actions = resume(c, now=T0 + 4)
    assert actions == [] and c.status == "running"
    c, actions = _report(c, vins[5:6], "failed", T0 + 5, "battery_low")
    assert actions == [Paused("error_threshold", "all")]
    c, _ = resume(c, now=T0 + 6)
    c, actions = _report(c, vins[6:7], "done", T0 + 7)
    assert c.status == "running"
    assert progress(c)["reasons"] == {"battery_low": 2, "checksum_mismatch": 1}


def test_ota_campaign_operator_pause_holds_the_next_group() -> None:
    """A paused campaign does not release a group; resume releases it."""
    c = plan(_spec(*_three_groups()), [_car(n) for n in range(10)])
    c, _ = start(c, now=T0)
    c, actions = pause(c, now=T0 + 1)
    assert actions == [Paused("operator", "pilot")]
    c, actions = _report(c, c.members[0][:1], "done", T0 + 2)
    assert actions == []
    c, actions = resume(c, now=T0 + 3)
    assert actions == [Offer(c.members[1], "wave")]
    with pytest.raises(CampaignTransitionError, match="cannot resume") as err:
        resume(c, now=T0 + 4)
    assert err.value.rule == "resume only from paused"


def test_ota_campaign_complete_group_below_success_pauses() -> None:
    """A group that ended below its success threshold pauses; resume moves on."""
    c = plan(_spec(*_three_groups()), [_car(n) for n in range(10)])
    pilot = c.members[0]
    c, _ = start(c, now=T0)
    c, actions = _report(c, pilot, "refused", T0 + 1, "customer_declined")
    assert actions == [Paused("success_unreachable", "pilot")]
    c, actions = resume(c, now=T0 + 2)
    assert actions == [Offer(c.members[1], "wave")]


def test_ota_campaign_cancel_withdraws_offers_not_installations() -> None:
    """Cancel withdraws offers before installing; an installing car still reports done."""
    c = plan(_spec(*_three_groups()), [_car(n) for n in range(10)])
    pilot = c.members[0]
    c, _ = start(c, now=T0)
    c, _ = _report(c, pilot[:1], "installing", T0 + 1)
    c, actions = cancel(c, now=T0 + 2)
    assert actions == [CancelOffer(pilot[1:])]
    assert c.status == "cancelled"
    assert progress(c)["counts"] == {**dict.fromkeys(VEHICLE_STATUSES, 0),
                                     "installing": 1, "cancelled": 9}
    c, actions = _report(c, pilot[:1], "done", T0 + 3)
    assert (actions, c.vehicles[pilot[0]].status, c.status) == ([], "done", "cancelled")
    with pytest.raises(CampaignTransitionError, match="already cancelled"):
        cancel(c, now=T0 + 4)


def test_ota_campaign_tick_times_out_silent_cars() -> None:
    """A car silent past the action timeout is timed out and counts as a failure."""
    group = RolloutGroup("all", share=1.0, success_threshold=1.0, error_threshold=0.5)
    c = plan(_spec(group), [_car(n) for n in range(4)])
    vins = c.members[0]
    c, _ = start(c, now=T0)
    c, _ = _report(c, vins[:1], "installing", T0 + HOUR / 2)
    c, _ = _report(c, vins[1:2], "done", T0 + HOUR / 2)
    c, actions = tick(c, now=T0 + HOUR - 1)
    assert actions == []
    c, actions = tick(c, now=T0 + HOUR)
    assert actions == [CancelOffer(vins[2:]), Paused("error_threshold", "all")]
    assert [c.vehicles[v].status for v in vins] == ["installing", "done", "timed_out",
                                                    "timed_out"]
    c, _ = resume(c, now=T0 + HOUR + 1)
    c, actions = tick(c, now=T0 + 2 * HOUR)
    assert actions == [Paused("error_threshold", "all")]
    assert progress(c)["reasons"] == {"timeout": 3}


def test_ota_campaign_progress_counts_per_group() -> None:
    """Progress gives counts per status and per group, with the current group."""
    c = plan(_spec(*_three_groups()), [_car(n) for n in range(10)])
    c, _ = start(c, now=T0)
    c, _ = _report(c, c.members[0][:1], "failed", T0 + 1, "battery_low")
    report = progress(c)
    assert (report["status"], report["paused_reason"], report["current_group"],
            report["vehicles"]) == ("paused", "error_threshold", "pilot", 10)
    groups = report["groups"]
    assert isinstance(groups, list)
    assert [(g["name"], g["size"], g["released"], g["failures"]) for g in groups] == [
        ("pilot", 2, True, 1), ("wave", 3, False, 0), ("rest", 5, False, 0)]
    assert groups[0]["counts"]["offered"] == 1
    assert report["reasons"] == {"battery_low": 1}


def test_ota_campaign_rejects_reports_out_of_life_cycle() -> None:
    """Unknown cars, cars not yet offered and bad reason codes are refused."""
    c = plan(_spec(*_three_groups()), [_car(n) for n in range(10)])
    c, _ = start(c, now=T0)
    with pytest.raises(CampaignTransitionError, match="not targeted"):
        on_vehicle_event(c, "WMWUNKNOWN0000000", "done", now=T0)
    with pytest.raises(CampaignTransitionError, match="was not offered"):
        on_vehicle_event(c, c.members[2][0], "done", now=T0)
    with pytest.raises(CampaignTransitionError, match="gave reason 'Battery Low!'") as err:
        on_vehicle_event(c, c.members[0][0], "failed", reason="Battery Low!", now=T0)
    assert (err.value.vin, err.value.rule) == (c.members[0][0], "reason is a snake_case code")


def test_ota_campaign_empty_fleet_finishes_at_start() -> None:
    """With no targeted car every group is empty and the campaign finishes at once."""
    c, actions = start(plan(_spec(*_three_groups()), [_car(1, os_version=8)]), now=T0)
    assert (c.status, actions) == ("finished", [Finished("camp-1")])


_OPS = st.one_of(
    st.tuples(st.just("event"), st.integers(0, 5), st.sampled_from(VEHICLE_REPORTS)),
    st.tuples(st.just("tick"), st.floats(0, 2 * HOUR), st.just("")),
    st.tuples(st.sampled_from(["pause", "resume", "cancel"]), st.just(0), st.just("")))


@settings(max_examples=150, deadline=None)
@given(st.lists(_OPS, max_size=40))
def test_ota_campaign_final_status_is_never_left(ops: list[tuple[str, float, str]]) -> None:
    """Whatever happens, a car in a final state keeps that state."""
    groups = (RolloutGroup("a", size=2, success_threshold=0.5, error_threshold=0.5),
              RolloutGroup("b", share=0.5, success_threshold=0.5, error_threshold=0.5))
    c = plan(_spec(*groups), [_car(n) for n in range(6)])
    c, _ = start(c, now=T0)
    vins = sorted(c.vehicles)
    now = T0
    final: dict[str, str] = {}
    for op, arg, state in ops:
        now += 1.0
        try:
            if op == "event":
                c, _ = on_vehicle_event(c, vins[int(arg)], cast(VehicleReport, state),
                                        reason="code", now=now)
            elif op == "tick":
                now += arg
                c, _ = tick(c, now=now)
            else:
                c, _ = {"pause": pause, "resume": resume, "cancel": cancel}[op](c, now=now)
        except CampaignTransitionError:
            pass
        for vin, seen in final.items():
            assert c.vehicles[vin].status == seen
        final.update({v.vin: v.status for v in c.vehicles.values() if v.status in FINAL})
