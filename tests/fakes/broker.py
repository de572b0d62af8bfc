"""The relay's broker link in memory (``BrokerLink``): what it published, in order."""

from __future__ import annotations

from protocols.envelope import EcallAck, unpack
from protocols.rejection import Rejection, unpack_rejection
from protocols.topics import parse_topic


class FakeBroker:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.published.append((topic, payload))

    def acks(self) -> list[tuple[str, EcallAck]]:
        """(topic, acknowledgement) of everything published but rejections, all of it
        acknowledgements."""
        out = []
        for topic, payload in self.published:
            if parse_topic(topic).kind == "rejected":
                continue
            ack = unpack(payload)
            assert isinstance(ack, EcallAck), topic
            out.append((topic, ack))
        return out

    def rejections(self) -> list[tuple[str, Rejection]]:
        """(topic, rejection) of the answers to refused messages, in order."""
        return [(topic, unpack_rejection(payload)) for topic, payload in self.published
                if parse_topic(topic).kind == "rejected"]
