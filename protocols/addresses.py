"""Broker and Redis addresses as users write them (``mqtt://host:port``), parsed once.

Both sides of the wire and the command line read these, so the rule lives here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from protocols.errors import ProtocolError


def mqtt_address(url: str, *, setting: str = "TELEMATICS_MQTT_URL") -> tuple[str, int]:
    """``mqtt://host:port`` (or ``tcp://``) → (host, port); port defaults to 1883."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname or port == -1:
        raise ProtocolError(f"{url!r} is not mqtt://HOST:PORT", field=setting,
                            rule="mqtt://HOST:PORT")
    return parts.hostname, port or 1883
