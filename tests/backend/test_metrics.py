"""Each role's /metrics: the lanes' own counters under their names, eCall latency per
variant and desk, stream lag and pending entries, Redis pool use, retries."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import httpx
from prometheus_client.parser import text_string_to_metric_families

from backend.infra import keys
from backend.infra.metrics import (
    BUDGET_REJECTIONS,
    REJECTIONS,
    budget_family,
    counter_families,
    rejection_labels,
)
from backend.runtime.metrics_endpoint import free_metrics_port, metrics_port, metrics_urls
from backend.runtime.supervisor import Supervisor
from backend.settings import BackendSettings
from cli.local_services import LocalServices
from tests.backend.support import Car, Lanes, new_vin, signer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def test_an_error_counter_is_split_into_field_and_rule_at_its_first_colon() -> None:
    assert rejection_labels("vin:17 characters") == ("vin", "17 characters")
    assert rejection_labels("topic:mqtt[s]://HOST:PORT") == ("topic", "mqtt[s]://HOST:PORT")
    assert rejection_labels("desk:msd:asn1") == ("desk", "msd:asn1")


def test_the_lanes_counters_are_exported_summed_under_their_families() -> None:
    one = {keys.ERROR_COUNTERS: Counter({"vin:format": 2}),
           keys.INGEST_COUNTERS: Counter({"legal:new": 3}),
           "metrics:budget-flags": Counter({"hv_warn:message_over_budget": 1})}
    two = {keys.ERROR_COUNTERS: Counter({"vin:format": 1})}
    exported = {(m.name, s.name, tuple(sorted(s.labels.items()))): s.value
                for m in counter_families([one, two]) for s in m.samples}
    assert exported == {
        (REJECTIONS, f"{REJECTIONS}_total", (("field", "vin"), ("rule", "format"))): 3,
        ("telematics_ingest", "telematics_ingest_total", (("event", "legal:new"),)): 3,
        ("telematics_counter", "telematics_counter_total",
         (("family", "metrics:budget-flags"), ("name", "hv_warn:message_over_budget"))): 1,
    }


def test_budget_refusals_are_labelled_by_service_and_reason() -> None:
    family = budget_family({"teleservice_call:over_month": 4})
    assert [(s.name, s.labels, s.value) for s in family.samples] == [
        (f"{BUDGET_REJECTIONS}_total", {"service": "teleservice_call", "reason": "over_month"},
         4)]


def test_each_role_gets_its_own_metrics_port_and_none_when_off() -> None:
    off = BackendSettings()
    assert metrics_port(off, "emergency") is None and metrics_urls(off) == {}
    on = BackendSettings(metrics_port=9200)
    ports = [metrics_port(on, role) for role in ("emergency", "desks", "services", "bulk",
                                                 "api")]
    assert ports == [9200, 9201, 9202, 9203, 9204]
    assert metrics_urls(on, ["bulk"]) == {"bulk": "http://127.0.0.1:9203/metrics"}


async def _scrape(client: httpx.AsyncClient, url: str) -> Samples:
    answer = await client.get(url)
    answer.raise_for_status()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _until(client: httpx.AsyncClient, url: str, name: str, *, at_least: float,
                 timeout_s: float = 20.0, **labels: str) -> Samples:
    """Scrape until the series ``name`` (summed over every other label) reaches
    ``at_least``: the desk records a call, and the lane counts a message, after the car's
    broker has acknowledged it."""
    deadline = time.monotonic() + timeout_s
    while True:
        samples = await _scrape(client, url)
        total = sum(value for (series, have), value in samples.items()
                    if series == name and frozenset(labels.items()) <= have)
        if total >= at_least:
            return samples
        assert time.monotonic() < deadline, (name, labels, total)
        await asyncio.sleep(0.1)  # polling the scrape, as Prometheus would


async def test_the_roles_serve_their_metrics_on_their_own_ports(
        fresh_services: LocalServices) -> None:
    """Run as the supervisor runs them: a Legal eCall is counted by the emergency lane and
    timed at its PSAP desk; a malformed one is counted by field and rule."""
    urls = fresh_services.urls
    settings = signer().settings(mqtt_url=urls.mqtt_url, **urls.redis_fields(),
                                 worker_id=uuid.uuid4().hex[:8],
                                 metrics_port=free_metrics_port())
    supervisor = Supervisor(settings, roles=("emergency", "desks"))
    stop = asyncio.Event()
    running = asyncio.create_task(supervisor.run(stop))
    where = metrics_urls(settings)
    try:
        await Lanes(settings).wait_ready("emergency", "desks", timeout_s=30)
        async with Car(urls.mqtt_url, new_vin()) as car:
            car.send("legal", f"m-{uuid.uuid4().hex[:8]}")
            ack = await car.ack()
            car.publish_raw(f"tcu/v1/{car.vin}/ecall/legal", b"not an envelope")
        async with httpx.AsyncClient(timeout=5.0) as client:
            desks = await _until(client, where["desks"], "telematics_ecall_latency_seconds_count",
                                 at_least=1, variant="legal", desk=ack.route)
            assert _value(desks, "telematics_role", role="desks",
                          worker=settings.worker_id) == 1
            lag = ("telematics_stream_lag_entries",
                   frozenset({"stream": keys.psap_stream(ack.route),
                              "group": keys.PSAP_GROUP}.items()))
            assert lag in desks
            emergency = await _until(client, where["emergency"], f"{REJECTIONS}_total",
                                     at_least=1)
            assert _value(emergency, "telematics_ingest_total", event="legal:new") == 1
            assert _value(emergency, "telematics_redis_pool_max_connections", pool="oem") > 0
            assert _value(emergency, "telematics_redis_pool_max_connections", pool="relay") > 0
            assert (await client.get(where["emergency"].replace("/metrics", "/"))
                    ).status_code == 404
    finally:
        stop.set()
        await running
