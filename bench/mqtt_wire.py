"""The few MQTT packet pieces the load generator writes by hand (and the tests read).

A full client costs more CPU per message than the generator may take from the box it
loads; these are the only encodings it needs, checked against a real broker in tests.
"""

from __future__ import annotations


def remaining_length(n: int) -> bytes:
    """MQTT's variable-length integer (1..4 bytes)."""
    if not 0 <= n <= 268_435_455:
        raise ValueError(f"remaining length {n} out of range")
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8_field(text: str) -> bytes:
    """A length-prefixed UTF-8 string."""
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def packet(first_byte: int, body: bytes) -> bytes:
    """A control packet: fixed header byte, remaining length, body."""
    return bytes([first_byte]) + remaining_length(len(body)) + body
