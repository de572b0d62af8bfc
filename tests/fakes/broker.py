"""The relay's broker link in memory (``BrokerLink``): what it published, in order."""

from __future__ import annotations

from protocols.envelope import EcallAck, unpack


class FakeBroker:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.published.append((topic, payload))

    def acks(self) -> list[tuple[str, EcallAck]]:
        """(topic, acknowledgement) of everything published, all of it acknowledgements."""
        out = []
        for topic, payload in self.published:
            ack = unpack(payload)
            assert isinstance(ack, EcallAck), topic
            out.append((topic, ack))
        return out
