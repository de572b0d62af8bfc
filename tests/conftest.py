"""Services shared by every test: Mosquitto and Redis on loopback.

Every broker the tests start is the secure one, as in a run: two TLS listeners that take
clients with certificates only and the ACL per identity (``services.identity(NAME)``
issues one; ``tests.brokers`` finds it from a URL for the helpers). ``services`` (one set
per session) honours ``TELEMATICS_MQTT_URL`` (with ``TELEMATICS_PKI_DIR`` for an mqtts
one), ``TELEMATICS_REDIS_URL`` and ``TELEMATICS_PSAP_REDIS_URL``; ``fresh_services`` always
starts a private set, so a test may restart it; ``secure_services`` is the security
suite's own private set. ``plain_services`` is a plaintext broker for the few tests that
need one on purpose (each says why). Redis is two instances, the OEM one (``redis_url``,
as the ``oem`` user) and the PSAP domain's (``psap_redis_url`` as the ``psap`` user,
``psap_relay_redis_url`` as the relay); each URL carries its password. Tests that use any
of these fixtures are marked ``broker`` automatically.
Fixtures of a part of the code live in that part's own ``conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.local_services import LocalServices, ServiceError, ensure_installed
from tests import brokers

SERVICE_FIXTURES = frozenset({"services", "mqtt_url", "redis_url", "psap_redis_url",
                              "psap_relay_redis_url", "fresh_services", "secure_services",
                              "plain_services"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.broker)


def _require_binaries(environ: dict[str, str] | None) -> None:
    try:
        ensure_installed(allow_apt=False, environ=environ)
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServices]:
    """Mosquitto and Redis for the whole session; never restart these."""
    environ = dict(os.environ)
    _require_binaries(environ)
    run_dir: Path = tmp_path_factory.mktemp("services")
    with LocalServices(run_dir=run_dir, environ=environ, secure=True) as running:
        yield from _registered(running)


@pytest.fixture(scope="session")
def mqtt_url(services: LocalServices) -> str:
    return services.urls.mqtt_url


@pytest.fixture(scope="session")
def redis_url(services: LocalServices) -> str:
    return services.urls.redis_url


@pytest.fixture(scope="session")
def psap_redis_url(services: LocalServices) -> str:
    """The PSAP domain's Redis as its desks' ``psap`` user."""
    return services.urls.psap_redis_url


@pytest.fixture(scope="session")
def psap_relay_redis_url(services: LocalServices) -> str:
    """The PSAP domain's Redis as the ``relay`` user, which may only hand eCalls off."""
    return services.urls.psap_relay_redis_url


@pytest.fixture
def fresh_services(tmp_path: Path) -> Iterator[LocalServices]:
    """A private secure Mosquitto and a Redis for one test, which may restart them."""
    _require_binaries(None)
    with LocalServices(run_dir=tmp_path / "services", environ={}, secure=True) as running:
        yield from _registered(running)


@pytest.fixture
def plain_services(tmp_path: Path) -> Iterator[LocalServices]:
    """A private plaintext Mosquitto (anonymous, one listener) and a Redis, for a test
    that needs a plaintext socket on purpose or drives a client without certificates."""
    _require_binaries(None)
    with LocalServices(run_dir=tmp_path / "plain", environ={}) as running:
        yield from _registered(running)


def _registered(running: LocalServices) -> Iterator[LocalServices]:
    brokers.register(running)
    try:
        yield running
    finally:
        brokers.unregister(running)


@pytest.fixture(scope="session")
def secure_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServices]:
    """Mosquitto with its two TLS listeners and the generated ACL, and a Redis beside it."""
    _require_binaries(None)
    with LocalServices(run_dir=tmp_path_factory.mktemp("secure"), environ={},
                       secure=True) as running:
        yield from _registered(running)
