"""A secure broker of its own for the attack tests: TLS only, client certificates, ACL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cli.local_services import LocalServices, ensure_installed


@pytest.fixture(scope="module")
def secure_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServices]:
    """Mosquitto with the two TLS listeners and the generated ACL, and a Redis beside it."""
    ensure_installed(allow_apt=False, environ=None)
    with LocalServices(run_dir=tmp_path_factory.mktemp("secure"), environ={},
                       secure=True) as running:
        yield running
