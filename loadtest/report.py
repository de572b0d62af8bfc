"""The run's reports: one JSON with every figure, JUnit XML, one offline HTML (pure text).

The JSON is what a script reads; the JUnit XML has one test case per threshold, so a
CI server shows which one broke; the HTML carries its plots inline (``loadtest.svg``):
the latency distribution of each measured kind, throughput and latency over time, cars
connected over time and errors over time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from xml.etree import ElementTree as ET

from loadtest import svg
from loadtest.verdict import Check

JSON_NAME = "report.json"
JUNIT_NAME = "junit.xml"
HTML_NAME = "report.html"


def report_json(run: Mapping[str, Any], figures: Mapping[str, Any],
                checks: Sequence[Check]) -> str:
    return json.dumps({"run": run, "passed": all(c.passed for c in checks),
                       "checks": [_check(c) for c in checks], **figures}, indent=1)


def _check(check: Check) -> dict[str, Any]:
    return {"name": check.name, "limit": check.limit, "measured": check.measured,
            "passed": check.passed, "text": check.text}


def junit_xml(profile: str, checks: Sequence[Check], *, seconds: float) -> str:
    suite = ET.Element("testsuite", name=f"telematics load {profile}",
                       tests=str(len(checks)),
                       failures=str(sum(not c.passed for c in checks)), errors="0",
                       time=f"{seconds:.1f}")
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname=f"load.{profile}", name=check.name,
                             time="0")
        if not check.passed:
            ET.SubElement(case, "failure", message=check.text).text = check.text
        else:
            ET.SubElement(case, "system-out").text = check.text
    text: str = ET.tostring(suite, encoding="unicode", xml_declaration=True)
    return text


def _timeline(figures: Mapping[str, Any], *keys: str) -> dict[str, list[tuple[float, float]]]:
    rows = figures["timeline"]
    return {key: [(float(r["t"]), float(r[key])) for r in rows if key in r] for key in keys}


def html(run: Mapping[str, Any], figures: Mapping[str, Any], checks: Sequence[Check]) -> str:
    latency = figures["latency"]
    distributions = {kind: [(svg.nines(p), ms) for p, ms in data["distribution"]]
                     for kind, data in latency.items() if data.get("distribution")}
    charts = [
        svg.line_chart("Latency distribution per kind", distributions,
                       x_label="percentile", y_label="ms", x_text=svg.nines_text),
        svg.line_chart("Messages published per second", _timeline(figures, "published"),
                       x_label="s since start", y_label="messages/s"),
        svg.line_chart("Latency over time (p99 of each second)",
                       _timeline(figures, "puback_p99_ms", "ecall_ack_p99_ms"),
                       x_label="s since start", y_label="ms"),
        svg.line_chart("Cars connected", _timeline(figures, "connected"),
                       x_label="s since start", y_label="cars"),
        svg.line_chart("Errors per second", _timeline(figures, "errors"),
                       x_label="s since start", y_label="errors/s"),
    ]
    rows = "".join(
        f"<tr><td>{escape(kind)}</td><td>{escape(str(d.get('what', '')))}</td>"
        + "".join(f"<td>{d.get(k, '')}</td>" for k in
                  ("count", "p50_ms", "p90_ms", "p99_ms", "p99.9_ms", "max_ms"))
        + "</tr>" for kind, d in latency.items())
    verdicts = "".join(
        f'<li class="{"ok" if c.passed else "bad"}">{escape(c.text)}</li>' for c in checks)
    counters = "".join(f"<tr><td>{escape(k)}</td><td>{v}</td></tr>"
                       for k, v in figures["counters"].items())
    passed = all(c.passed for c in checks)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>telematics load {escape(str(run.get('profile', '')))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}
td:first-child,td:nth-child(2){{text-align:left}}.ok{{color:#2a7d2a}}.bad{{color:#c00;
font-weight:bold}}svg{{margin:1em 1em 0 0}}</style></head><body>
<h1>telematics load: {escape(str(run.get('profile', '')))}
<span class="{"ok" if passed else "bad"}">{"passed" if passed else "FAILED"}</span></h1>
<p>{escape(json.dumps(run))}</p>
<h2>Verdicts</h2><ul>{verdicts or "<li>no thresholds set</li>"}</ul>
<h2>eCalls</h2><p>{escape(json.dumps(figures["ecalls"]))}</p>
<h2>Latency (ms, timed from each message's scheduled send)</h2>
<table><tr><th>kind</th><th>what</th><th>count</th><th>p50</th><th>p90</th><th>p99</th>
<th>p99.9</th><th>max</th></tr>{rows}</table>
<h2>Plots</h2>{"".join(charts)}
<h2>Counters</h2><table>{counters}</table>
</body></html>
"""
