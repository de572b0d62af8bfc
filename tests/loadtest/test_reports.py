"""Verdicts name the threshold that broke; the reports parse and open offline."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from loadtest import report
from loadtest.aggregate import Aggregate
from loadtest.profile import Thresholds
from loadtest.recorder import Recorder
from loadtest.verdict import judge


def _figures() -> dict[str, object]:
    ticks = iter(range(0, 10**13, 10**8))
    recorder = Recorder(source="a", now_ns=lambda: next(ticks))
    for i in range(50):
        recorder.count("ecall_started")
        recorder.expect("ecall_ack", i, 0)
        recorder.done("ecall_ack", i)
        recorder.count("ecall_acked")
        recorder.count("connect_attempts")
    recorder.count("connect_failed")
    aggregate = Aggregate(started_ns=0)
    aggregate.add(recorder.take())
    return aggregate.figures(final=True)


def test_verdict_names_the_breached_threshold() -> None:
    figures = _figures()
    checks = judge(Thresholds(ecall_ack_p99_ms=0.5, lost_ecalls=0, rejected=0,
                              connect_failure_share=0.5), figures, backend_rejected=0)
    assert [c.name for c in checks] == ["ecall_ack_p99_ms", "lost_ecalls", "rejected",
                                        "connect_failure_share"]
    assert [c.passed for c in checks] == [False, True, True, True]
    assert checks[0].text.startswith("ecall_ack_p99_ms:") and "BREACHED" in checks[0].text


def test_verdict_backend_rejections_count() -> None:
    checks = judge(Thresholds(rejected=0), _figures(), backend_rejected=3)
    assert not checks[0].passed and checks[0].measured == 3


def test_verdict_counts_an_acknowledged_ecall_missing_at_its_desk_as_lost() -> None:
    figures = _figures()
    assert judge(Thresholds(lost_ecalls=0), figures)[0].passed
    figures["ecalls"] = {**figures["ecalls"], "not_at_desk": 2}  # type: ignore[dict-item]
    check = judge(Thresholds(lost_ecalls=0), figures)[0]
    assert not check.passed and check.measured == 2


def test_aggregate_settles_once_every_started_ecall_is_acknowledged() -> None:
    recorder = Recorder(source="a", now_ns=lambda: 0)
    aggregate = Aggregate(started_ns=0)
    assert aggregate.settled()  # no eCall at all: nothing to wait for
    recorder.count("ecall_started", 2)
    recorder.count("ecall_acked")
    aggregate.add(recorder.take())
    assert not aggregate.settled()
    recorder.count("ecall_acked")
    aggregate.add(recorder.take())
    assert aggregate.settled()


def test_reports_parse_and_carry_every_check() -> None:
    figures = _figures()
    checks = judge(Thresholds(ecall_ack_p99_ms=0.5, lost_ecalls=0), figures)
    run = {"profile": "p", "seconds": 1.0}
    data = json.loads(report.report_json(run, figures, checks))
    assert data["passed"] is False and data["ecalls"]["started"] == 50
    suite = ET.fromstring(report.junit_xml("p", checks, seconds=1.0))
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c.get("name") for c in suite if c.find("failure") is not None]
    assert failed == ["ecall_ack_p99_ms"]
    page = report.html(run, figures, checks)
    assert page.count("<svg") == 5
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page
