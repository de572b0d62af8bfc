"""eCall publish to desk receipt: the car notes what was acknowledged where, and the
desks' records are timed from each call's scheduled send."""

from __future__ import annotations

from loadtest import desk_receipts
from loadtest.aggregate import DESK_SAMPLE, Aggregate
from loadtest.recorder import Recorder
from loadtest.schedule import Planned
from protocols.envelope import EcallAck, pack
from protocols.topics import ecall_ack_topic
from tests.loadtest.test_fleet_car import CAR, Rig


def test_desk_receipts_are_timed_from_the_scheduled_send_and_missing_ones_counted() -> None:
    base = 10**18
    looked_up = [(base, {"received_ns": base + 3_000_000}),
                 (base, {"received_ns": base + 7_000_000}),
                 (base, None), (base, {"incident": "x"})]
    data = desk_receipts.figures(looked_up)
    assert data["count"] == 2 and data["without_receipt"] == 2
    assert 2.99 <= data["min_ms"] <= 3.01 and 6.99 <= data["max_ms"] <= 7.01


def test_an_acknowledged_ecall_is_noted_with_its_desk_and_scheduled_send() -> None:
    rig = Rig()
    scheduled = rig.now_ns - 5_000_000
    rig.car.act(Planned(1.0, "ecall"), scheduled)
    incident = rig.envelope(0).incident
    ack = EcallAck(incident, 1, "callcentre", rig.now_ns)
    rig.car.on_downlink(ecall_ack_topic(CAR.vin), pack(ack))
    rig.car.on_downlink(ecall_ack_topic(CAR.vin), pack(ack))  # a repeat is noted once
    snapshot = rig.recorder.take()
    assert snapshot["desk_notes"] == [["callcentre", incident, scheduled]]
    aggregate = Aggregate(started_ns=0)
    aggregate.add(snapshot)
    assert aggregate.figures(final=True)["desk_notes"] == [["callcentre", incident, scheduled]]


def test_the_desk_sample_is_bounded() -> None:
    recorder = Recorder(source="a", now_ns=lambda: 0)
    aggregate = Aggregate(started_ns=0)
    for round_ in range(DESK_SAMPLE // 1000 + 2):
        for i in range(1000):
            recorder.note_desk("callcentre", f"i{round_}-{i}", i)
        aggregate.add(recorder.take())
    assert len(aggregate.desk_notes) == DESK_SAMPLE
    assert aggregate.desk_notes[0] == ["callcentre", "i0-0", 0]
