"""The Prometheus metrics of one backend process: what its role counts, times and samples.

Every role runs in a process of its own, so one registry per process is one registry per
role; ``backend.runtime.metrics_endpoint`` serves it. The counters the lanes already keep
(``backend.infra.counters.Counters``, flushed to the ``metrics:*`` hashes) are read as they
are, under their own names, not counted a second time: ``ingest`` and ``rejections`` here
are the same numbers ``/health`` reports. What Redis holds (stream lag, budget refusals)
is sampled when Prometheus scrapes, not on a timer, so an idle backend costs nothing.

Labels never carry a VIN, an incident id or a position: only lanes, rules, desks,
variants and streams. Apart from privacy (the relay logs incident ids and timings only,
docs/requirements.md#ecall-r5), a label per car would grow without bound.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.redis_retry import retry_reports

# ``*_created`` series double every counter for what ``process_start_time_seconds`` says.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY: Final = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

ROLE: Final = Gauge("telematics_role", "1 for the role and worker this process runs",
                    ["role", "worker"], registry=REGISTRY)
# From a few milliseconds (a quiet box) to the EN 15722 expectations of seconds.
LATENCY_BUCKETS_S: Final = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                            10.0, 30.0)
ECALL_LATENCY: Final = Histogram(
    "telematics_ecall_latency_seconds",
    "From the car's send time to the PSAP desk's recording of the call, per transmission",
    ["variant", "desk"], buckets=LATENCY_BUCKETS_S, registry=REGISTRY)
RETENTION_DELETED: Final = Counter(
    "telematics_retention_deleted", "Records the retention sweeper deleted when due",
    registry=REGISTRY)
STREAM_LAG: Final = Gauge(
    "telematics_stream_lag_entries", "Entries of a desk stream its group has not read yet",
    ["stream", "group"], registry=REGISTRY)
STREAM_PENDING: Final = Gauge(
    "telematics_stream_pending_entries",
    "Entries of a desk stream read but not acknowledged (being worked, or abandoned)",
    ["stream", "group"], registry=REGISTRY)
POOL_IN_USE: Final = Gauge(
    "telematics_redis_pool_in_use_connections", "Connections of a Redis pool lent out now",
    ["pool"], registry=REGISTRY)
POOL_IDLE: Final = Gauge(
    "telematics_redis_pool_idle_connections", "Connections of a Redis pool open and free",
    ["pool"], registry=REGISTRY)
POOL_MAX: Final = Gauge(
    "telematics_redis_pool_max_connections", "The most connections a Redis pool opens; "
    "past it, callers wait (back-pressure)", ["pool"], registry=REGISTRY)
SAMPLE_FAILURES: Final = Counter(
    "telematics_metrics_sample_failures", "Scrapes whose sample of Redis failed, by sample",
    ["sample"], registry=REGISTRY)

# Each ``Counters`` family under its metric name and the label its entries go under.
FAMILIES: Final[dict[str, tuple[str, str]]] = {
    keys.INGEST_COUNTERS: ("telematics_ingest", "Messages the lanes took, by event"),
    keys.BULK_COUNTERS: ("telematics_bulk_messages", "Bulk telemetry taken, by event"),
    keys.DESK_COUNTERS: ("telematics_desk_records", "Records the desks wrote, by desk:kind"),
}
OTHER_FAMILY: Final = "telematics_counter"
REJECTIONS: Final = "telematics_rejections"
BUDGET_REJECTIONS: Final = "telematics_budget_rejections"
RETRIES: Final = "telematics_redis_retries"
RETRYING: Final = "telematics_redis_retrying"


def rejection_labels(name: str) -> tuple[str, str]:
    """An error counter's name (``field:rule``, as ``Counters.reject`` stores it) as the
    labels ``field`` and ``rule`` (pure). Split at the first colon: a field name has none,
    a rule may (``mqtt[s]://HOST:PORT``); ``desk:...`` and ``budget:...`` name the stage."""
    field, _, rule = name.partition(":")
    return field, rule


def counter_families(totals: Iterable[Mapping[str, Tally[str]]]) -> list[Metric]:
    """The lanes' counters (each ``Counters.totals``, summed) as Prometheus counters (pure)."""
    summed: dict[str, Tally[str]] = {}
    for one in totals:
        for family, counts in one.items():
            summed.setdefault(family, Tally()).update(counts)
    rejections = CounterMetricFamily(REJECTIONS, "Messages rejected, by field and rule "
                                     "(the metrics:errors counters)", labels=["field", "rule"])
    other = CounterMetricFamily(OTHER_FAMILY, "Any other counter family, by family and name",
                                labels=["family", "name"])
    named = {family: CounterMetricFamily(metric, text, labels=["event"])
             for family, (metric, text) in FAMILIES.items()}
    for family, counts in sorted(summed.items()):
        for name, value in sorted(counts.items()):
            if family == keys.ERROR_COUNTERS:
                rejections.add_metric(list(rejection_labels(name)), value)
            elif family in named:
                named[family].add_metric([name], value)
            else:
                other.add_metric([family, name], value)
    return [rejections, *named.values(), other]


def budget_family(rejected: Mapping[str, int]) -> Metric:
    """The fleet's budget refusals (the ``bud:rejected`` hash, ``service:reason``) (pure)."""
    family = CounterMetricFamily(BUDGET_REJECTIONS, "Messages refused for being over a "
                                 "service's data budget, fleet-wide", labels=["service", "reason"])
    for name, value in sorted(rejected.items()):
        service, _, reason = name.partition(":")
        family.add_metric([service, reason], value)
    return family


class LaneCollector(Collector):
    """What this process's lanes counted, its Redis retries, and the last budget sample."""

    def __init__(self) -> None:
        self._counters: list[Counters] = []
        self.budget_rejected: dict[str, int] | None = None

    def watch(self, counters: Counters) -> Counters:
        self._counters.append(counters)
        return counters

    def collect(self) -> Iterator[Metric]:
        yield from counter_families(c.totals for c in self._counters)
        retries = CounterMetricFamily(RETRIES, "Redis calls a lane retried instead of dropping "
                                      "the message", labels=["what"])
        retrying = GaugeMetricFamily(RETRYING, "1 while a lane is retrying Redis",
                                     labels=["what"])
        for report in retry_reports():
            retries.add_metric([report.what], report.total)
            retrying.add_metric([report.what], 0 if report.since is None else 1)
        yield retries
        yield retrying
        yield budget_family(self.budget_rejected or {})


LANES: Final = LaneCollector()
REGISTRY.register(LANES)


def metric_names(registry: CollectorRegistry = REGISTRY) -> frozenset[str]:
    """Every series name ``registry`` can expose (``_bucket``, ``_total`` ... included): what
    a dashboard may query."""
    names: set[str] = set()
    for metric in registry.collect():
        names.add(metric.name)
        suffixes = {"counter": ("_total", "_created"), "histogram": (
            "_bucket", "_count", "_sum", "_created"), "gauge": ()}.get(metric.type, ())
        names.update(metric.name + suffix for suffix in suffixes)
        names.update(sample.name for sample in metric.samples)
    return frozenset(names)
