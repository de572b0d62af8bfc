"""The API against its own OpenAPI document, fuzzed: no server error, no schema violation.

Schemathesis generates requests for every operation from ``/openapi.json`` and sends
them to the ASGI app (``create_app``, real Redis and Mosquitto from the fixtures, in
databases of this module's own) signed in as the operator, then checks each answer:
no 5xx, a status the operation documents, a body and headers that match its schema.
Requests that fit the schema and requests that break it are both generated (a
``limit`` past 64 bits must be a 422, not a 500). Examples per operation are bounded so
the module runs in well under a minute (about 15 s on the 2-core development machine).
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backend.api.app import create_app
from tests.backend.support import auth, signer

OEM_DB, PSAP_DB = 14, 15  # the fuzzer writes and erases at random: never in a shared db
EXAMPLES = 50  # per operation; 39 operations
# Rules beyond the schema (a campaign of 1-10 GB, a partner of the directory) answer 422
# naming the field and the rule; the fuzzer's "valid data must be accepted" cannot know
# them. Every other check runs: server errors, statuses, bodies, headers, content types.
EXCLUDED_CHECKS: list[schemathesis.CheckFunction] = [positive_data_acceptance]
# Every operation is fuzzed. Readiness answers its documented 503 (no lane runs here), a
# status that says "not ready", not a failure: for it alone the no-5xx check is left out;
# its body and status are still checked against the schema.
SKIPPED: frozenset[str] = frozenset()
NOT_READY_YET = frozenset({"GET /ready"})


def test_api_fuzz_conforms_to_its_schema(mqtt_url: str, redis_url: str) -> None:
    """Every generated request to every operation, as the operator: no server error, a
    documented status, a body and headers that conform to the schema."""
    for db in (OEM_DB, PSAP_DB):
        with Redis.from_url(redis_url, db=db) as redis:
            redis.flushdb()
    app = create_app(signer().settings(mqtt_url=mqtt_url, redis_url=redis_url,
                                       oem_db=OEM_DB, psap_db=PSAP_DB,
                                       worker_id=uuid.uuid4().hex[:8]))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Every request carries the operator's token; what a missing or bad token gets is
    # tested in test_api_tokens, so the fuzzer leaves the Authorization header alone.
    schema.config.generation.update(with_security_parameters=False)
    headers = auth("operator")
    failures: dict[str, str] = {}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is invalid: {result.err()}"
        if result.ok().label not in SKIPPED:
            operations.append(result.ok())
    try:
        for operation in operations:

            @given(case=st.one_of(
                operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)))
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def fuzz(case: schemathesis.Case[Any]) -> None:
                excluded = EXCLUDED_CHECKS + (
                    [not_a_server_error] if case.operation.label in NOT_READY_YET else [])
                case.call_and_validate(headers=headers, excluded_checks=excluded)

            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as exc:  # report every operation's
                failures[operation.label] = str(exc)[:2000]
    finally:
        asgi.shutdown_lifespans()
    assert len(operations) >= 38
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
