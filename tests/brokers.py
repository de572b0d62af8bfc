"""The tests' brokers, and what each client of one presents to it.

The tests pass broker URLs around as the product does, but a client of the secure broker
needs more than the URL: the certificate of its own identity (a car's CN is its VIN, a
backend role's ``backend-ROLE``) and the listener for that identity (cars connect to the
device listener, the backend to its own). The fixtures register every broker they start
here, so a helper finds both from the URL it was given and the name of its client, and a
test never hands certificates around.
"""

from __future__ import annotations

import ssl
from typing import Any

from cli.local_services import LocalServices
from cli.stack import backend_tls
from pki.identities import is_infrastructure
from protocols.addresses import mqtt_address, mqtt_ssl, mqtt_uses_tls

_BY_URL: dict[str, LocalServices] = {}


def register(services: LocalServices) -> None:
    """Make ``services``' broker known by both of its URLs (backend's and cars')."""
    urls = services.urls
    _BY_URL[urls.mqtt_url] = _BY_URL[urls.cars_mqtt_url] = services


def unregister(services: LocalServices) -> None:
    for url in [url for url, known in _BY_URL.items() if known is services]:
        del _BY_URL[url]


def _services(url: str) -> LocalServices | None:
    services = _BY_URL.get(url)
    if services is None and mqtt_uses_tls(url):
        raise LookupError(f"{url} is no broker a fixture started; its clients have no "
                          "certificates")
    return services


def client_address(url: str, identity: str) -> tuple[str, int, ssl.SSLContext | bool]:
    """Host, port and ``ssl`` argument with which ``identity`` connects to ``url``'s
    broker: the listener for that identity, with its certificate (plaintext: none)."""
    services = _services(url)
    if services is None:
        return (*mqtt_address(url), False)
    urls = services.urls
    listener = urls.mqtt_url if is_infrastructure(identity) else urls.cars_mqtt_url
    return (*mqtt_address(listener), mqtt_ssl(listener, services.identity(identity)))


def backend_tls_settings(url: str) -> dict[str, Any]:
    """The ``BackendSettings`` fields that give every role of a backend on ``url`` its
    certificate (none on a plaintext broker)."""
    services = _services(url)
    tls = None if services is None else backend_tls(services)
    if tls is None:
        return {}
    return {"mqtt_ca_file": tls.ca_file, "mqtt_cert_file": str(tls.cert_file),
            "mqtt_key_file": str(tls.key_file)}
