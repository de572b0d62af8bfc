"""The Grafana dashboard in deploy/ is JSON Grafana can import, and queries only metrics
the backend's registry exposes: a renamed metric fails here, not on an empty panel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from backend.infra.metrics import metric_names

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
# A metric of ours or of the process collector: the names a query may reference.
METRIC = re.compile(r"\b(?:telematics|process)_[a-z0-9_]+\b")


def _dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_dashboard_is_a_grafana_dashboard_with_a_query_per_panel() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def test_every_metric_the_dashboard_queries_exists_in_the_registry() -> None:
    known = metric_names()
    used = {name for expr in _expressions(_dashboard()) for name in METRIC.findall(expr)}
    assert used, "the dashboard queries no metric of ours"
    assert sorted(used - known) == []


def test_the_dashboard_shows_what_operators_asked_for() -> None:
    """Issue 14's list: ingest, rejections by rule, eCall latency per variant and desk,
    stream lag and pending, pool use, retries, retention deletions, budget refusals."""
    expressions = " ".join(_expressions(_dashboard()))
    for wanted in ("telematics_ingest_total", "telematics_rejections_total",
                   "telematics_ecall_latency_seconds_bucket", "telematics_stream_lag_entries",
                   "telematics_stream_pending_entries",
                   "telematics_redis_pool_in_use_connections", "telematics_redis_retries_total",
                   "telematics_retention_deleted_total", "telematics_budget_rejections_total"):
        assert wanted in expressions, wanted
    assert "by (le, variant, desk)" in expressions
