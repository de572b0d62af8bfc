"""The tally of a phase, the readiness judgement and the verdict, from observations."""

from __future__ import annotations

import json

import pytest

from chaos.calls import CallRecord, due_for_retransmission
from chaos.tally import (
    Delivery,
    FaultResult,
    Readiness,
    Receipt,
    Sample,
    exit_code,
    readiness,
    receipts_of,
    report,
    settled,
    tally,
)
from protocols.topics import EcallVariant


def _call(incident: str, *, variant: EcallVariant = "legal", sent_ns: int = 1_000_000_000,
          acked: bool = True, retransmissions: int = 0) -> CallRecord:
    return CallRecord(incident=incident, variant=variant, msg_id=1, car=0, sent_ns=sent_ns,
                      last_sent_s=0.0, retransmissions=retransmissions, acked=acked)


def _at(ms: float, msg_id: int = 1) -> Receipt:
    return Receipt(msg_id, 1_000_000_000 + int(ms * 1e6))


def test_tally_counts_delivered_lost_and_delay() -> None:
    """A call whose PSAP record holds its msg_id is delivered; the others are lost."""
    calls = [_call("a"), _call("b", acked=False, retransmissions=2), _call("c")]
    deliveries = {"a": Delivery(psap=(_at(3.5),)), "c": Delivery(psap=(_at(12.25),))}
    result = tally(calls, deliveries)
    assert (result.sent, result.acked, result.retransmitted) == (3, 2, 2)
    assert (result.delivered, result.lost, result.duplicated) == (2, 1, 0)
    assert result.max_delay_ms == 12.25
    assert result.lost_examples == ("b",)


def test_tally_other_msg_id_is_not_delivery() -> None:
    """A record holding only another messageIdentifier does not deliver this one."""
    result = tally([_call("a")], {"a": Delivery(psap=(_at(1.0, msg_id=2),))})
    assert (result.delivered, result.lost) == (0, 1)
    assert result.max_delay_ms is None


def test_tally_same_msg_id_twice_at_psap_is_duplicate() -> None:
    """The PSAP record holding one msg_id twice is a duplicate, delayed by its first receipt."""
    result = tally([_call("a")], {"a": Delivery(psap=(_at(2.0), _at(900.0)))})
    assert (result.delivered, result.duplicated) == (1, 1)
    assert result.max_delay_ms == 2.0
    assert result.duplicated_examples == ("a",)


def test_tally_same_msg_id_twice_in_case_is_duplicate() -> None:
    """An Intelligent eCall's call-centre case holding the msg_id twice is a duplicate too."""
    deliveries = {"a": Delivery(psap=(_at(2.0),), case_msg_ids=(1, 1))}
    assert tally([_call("a", variant="intelligent")], deliveries).duplicated == 1


def test_receipts_of_reads_the_desk_json() -> None:
    """The desk's transmissions JSON becomes receipts; extra fields are ignored."""
    raw = json.dumps([{"msg_id": 1, "sent_ns": 5, "received_ns": 9, "latency_ms": 0.0,
                       "entry": "1-0"}]).encode()
    assert receipts_of(raw) == (Receipt(1, 9),)
    assert receipts_of(None) == ()


def test_settled_needs_delivery_and_acknowledgement() -> None:
    """The drain ends only when every call is both delivered and acknowledged."""
    delivered = {"a": Delivery(psap=(_at(1.0),))}
    assert settled([_call("a")], delivered)
    assert not settled([_call("a", acked=False)], delivered)
    assert not settled([_call("a")], {})


def test_due_for_retransmission_only_open_unacked_and_expired() -> None:
    """Only an open call without an acknowledgement whose timer ran out is sent again."""
    expired = _call("a", acked=False)
    fresh = CallRecord(incident="b", variant="legal", msg_id=1, car=0, sent_ns=0,
                       last_sent_s=9.5)
    acked = _call("c")
    closed = _call("d", acked=False)
    closed.open = False
    due = due_for_retransmission([expired, fresh, acked, closed], now_s=10.0, ack_timeout_s=2.0)
    assert due == [expired]


def _samples(*pairs: tuple[float, bool]) -> list[Sample]:
    return [Sample(at, ok) for at, ok in pairs]


def test_readiness_never_red() -> None:
    """Green throughout: no red, ready again at once."""
    judged = readiness(_samples((9.0, False), (10.0, True), (11.0, True)), injected_s=10.0,
                       fault_end_s=10.5, until_s=20.0)
    assert judged == Readiness(red_seen=False, red_after_s=None, ready_again_s=0.0, samples=2)


def test_readiness_red_then_green() -> None:
    """Red after the injection, green again measured from the fault's end."""
    judged = readiness(_samples((10.2, True), (10.4, False), (11.0, False), (12.5, True),
                                (13.0, True)),
                       injected_s=10.0, fault_end_s=11.5, until_s=20.0)
    assert judged.red_seen
    assert judged.red_after_s == pytest.approx(0.4)
    assert judged.ready_again_s == pytest.approx(1.0)


def test_readiness_still_red_at_the_end() -> None:
    """Red until the end of the phase: not ready again."""
    judged = readiness(_samples((10.5, False), (19.0, False)), injected_s=10.0,
                       fault_end_s=11.0, until_s=20.0)
    assert judged.red_seen and judged.ready_again_s is None


def test_readiness_flapping_counts_the_last_red() -> None:
    """Green between two reds is not recovery: the green after the last red is."""
    judged = readiness(_samples((10.5, False), (11.0, True), (12.0, False), (14.0, True)),
                       injected_s=10.0, fault_end_s=10.0, until_s=20.0)
    assert judged.ready_again_s == pytest.approx(4.0)


def _result(fault: str, *, lost: int = 0, duplicated: int = 0) -> FaultResult:
    calls = [_call(f"{fault}-{i}") for i in range(3)]
    deliveries = {c.incident: Delivery(psap=(_at(1.0),) * (2 if i < duplicated else 1))
                  for i, c in enumerate(calls[lost:])}
    ready = Readiness(red_seen=False, red_after_s=None, ready_again_s=0.0, samples=4)
    return FaultResult(fault=fault, tally=tally(calls, deliveries), readiness=ready)


def test_exit_code_fails_on_loss_or_duplicate_only() -> None:
    """Exit 1 when a phase lost or duplicated; clean and skipped phases exit 0."""
    skipped = FaultResult(fault="broker_restart", skipped="not ours")
    assert exit_code([_result("kill_desk"), skipped]) == 0
    assert exit_code([_result("kill_desk"), _result("broker_restart", lost=1)]) == 1
    assert exit_code([_result("redis_restart", duplicated=1)]) == 1


def test_report_shape_and_totals() -> None:
    """The JSON report names every phase with its figures, the totals and the verdict."""
    results = [_result("kill_desk"), _result("broker_restart", lost=2),
               FaultResult(fault="redis_restart", skipped="Redis is not ours")]
    figures = report(results, {"rate": 25.0})
    assert figures["settings"] == {"rate": 25.0}
    assert [row["fault"] for row in figures["faults"]] == [
        "kill_desk", "broker_restart", "redis_restart"]
    assert figures["faults"][1]["lost"] == 2
    assert figures["faults"][2] == {"fault": "redis_restart", "skipped": "Redis is not ours"}
    assert (figures["sent"], figures["lost"], figures["duplicated"]) == (6, 2, 0)
    assert figures["failed"] == ["broker_restart"]
    assert figures["skipped"] == ["redis_restart"]
    assert figures["passed"] is False
    json.dumps(figures)
