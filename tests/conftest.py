"""Services shared by every test: Mosquitto and Redis on loopback.

``services`` (one set per session) honours ``TELEMATICS_MQTT_URL``,
``TELEMATICS_REDIS_URL`` and ``TELEMATICS_PSAP_REDIS_URL``; ``fresh_services`` always starts
a private set, so a test may restart it; ``secure_services`` is a private set whose broker
takes TLS clients with certificates only (``services.identity(NAME)`` issues one).
Redis is two instances, the OEM one (``redis_url``, as the ``oem`` user) and the PSAP
domain's (``psap_redis_url`` as the ``psap`` user, ``psap_relay_redis_url`` as the relay);
each URL carries its password. Tests that use any of these fixtures are marked ``broker``
automatically.
Fixtures of a part of the code live in that part's own ``conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.local_services import LocalServices, ServiceError, ensure_installed

SERVICE_FIXTURES = frozenset({"services", "mqtt_url", "redis_url", "psap_redis_url",
                              "psap_relay_redis_url", "fresh_services", "secure_services"})


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
    with LocalServices(run_dir=run_dir, environ=environ) as running:
        yield running


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
    """A private Mosquitto and Redis for one test, which may restart them."""
    _require_binaries(None)
    with LocalServices(run_dir=tmp_path / "services", environ={}) as running:
        yield running


@pytest.fixture(scope="session")
def secure_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServices]:
    """Mosquitto with its two TLS listeners and the generated ACL, and a Redis beside it."""
    _require_binaries(None)
    with LocalServices(run_dir=tmp_path_factory.mktemp("secure"), environ={},
                       secure=True) as running:
        yield running
