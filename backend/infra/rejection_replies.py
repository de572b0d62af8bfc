"""Answers to refused uplinks: every lane tells the car which message it refused and why.

A lane's rejection branch counts the refusal (``Counters.reject``) and hands it here;
``Refusals.answer`` publishes a ``protocols.rejection.Rejection`` on the car's own
``rejected`` topic at QoS 1 (docs/wire-contract.md, "What the backend does with a bad
message"). A topic that names no valid VIN has nobody to answer: it is counted only.

The answers are bounded so that a flood of garbage cannot turn the backend into an
amplifier: each car gets at most ``PER_CAR_BURST`` answers at once and one more every
``PER_CAR_EVERY_S``; all cars together at most ``ALL_CARS_PER_S`` a second; an answer is
a few hundred bytes whatever the refused message was; and the limiter remembers at most
``TRACKED_CARS`` cars. What is held back is counted (``keys.REPLY_COUNTERS``), never
queued. The broker's ACL lets a car publish only on its own topics, so an answer always
goes back to the certificate that sent the refused message, never to a third car.

``safety_qos_screen`` is the one check that needs the MQTT delivery, not the payload: a
safety call that arrived at QoS 0 is refused before its lane's handler sees it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.mqtt_link import Screen
from protocols.contract import check_delivery_qos
from protocols.errors import ProtocolError
from protocols.rejection import pack_rejection, rejection_of
from protocols.topics import Publish, parse_topic, rejected_topic

PER_CAR_BURST: Final = 10
PER_CAR_EVERY_S: Final = 1.0
ALL_CARS_PER_S: Final = 200
TRACKED_CARS: Final = 10_000

Refuse = Callable[[str, bytes, ProtocolError], None]
"""A lane's rejection branch: the topic, the payload and why it was refused."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class ReplyLimiter:
    """Token buckets per car and for all cars together (pure; the caller passes the time).

    A car's bucket holds ``burst`` answers and refills one every ``every_s``; the shared
    bucket holds and refills ``all_per_s`` a second. The least recently answered car is
    forgotten past ``tracked`` cars, which at worst gives it a fresh burst."""

    def __init__(self, *, burst: int = PER_CAR_BURST, every_s: float = PER_CAR_EVERY_S,
                 all_per_s: int = ALL_CARS_PER_S, tracked: int = TRACKED_CARS) -> None:
        self._burst, self._every_s = float(burst), every_s
        self._all_per_s, self._tracked = float(all_per_s), tracked
        self._cars: OrderedDict[str, _Bucket] = OrderedDict()
        self._all: _Bucket | None = None

    @property
    def cars(self) -> int:
        """How many cars' buckets are remembered (at most ``tracked``)."""
        return len(self._cars)

    def allow(self, vin: str, now: float) -> bool:
        """Whether ``vin`` may be answered at ``now``; takes one answer from both buckets."""
        car = self._cars.pop(vin, None)
        car = _Bucket(self._burst, now) if car is None else _refilled(
            car, now, per_s=1.0 / self._every_s, full=self._burst)
        shared = _Bucket(self._all_per_s, now) if self._all is None else _refilled(
            self._all, now, per_s=self._all_per_s, full=self._all_per_s)
        allowed = car.tokens >= 1.0 and shared.tokens >= 1.0
        if allowed:
            car.tokens -= 1.0
            shared.tokens -= 1.0
        self._cars[vin] = car
        self._all = shared
        while len(self._cars) > self._tracked:
            self._cars.popitem(last=False)
        return allowed


def _refilled(bucket: _Bucket, now: float, *, per_s: float, full: float) -> _Bucket:
    elapsed = max(0.0, now - bucket.at)
    return _Bucket(min(full, bucket.tokens + elapsed * per_s), max(now, bucket.at))


class Refusals:
    """Answers a lane's refusals on the car's ``rejected`` topic, within the limits."""

    def __init__(self, publish: Publish, counters: Counters, *,
                 limiter: ReplyLimiter | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._publish = publish
        self._counters = counters
        self._limiter = limiter or ReplyLimiter()
        self._clock = clock
        self._clock_ns = clock_ns

    def answer(self, topic: str, payload: bytes, exc: ProtocolError) -> bool:
        """Tell the car named by ``topic`` that ``payload`` was refused for ``exc``'s field
        and rule; False when nobody can be told (no VIN) or the limits hold it back."""
        try:
            parsed = parse_topic(topic)
        except ProtocolError:
            parsed = None
        if parsed is None or not parsed.vin:
            self._counters.bump(keys.REPLY_COUNTERS, "no_vin")
            return False
        if not self._limiter.allow(parsed.vin, self._clock()):
            self._counters.bump(keys.REPLY_COUNTERS, "held_back")
            return False
        reply = rejection_of(topic, parsed.kind, payload, field=exc.field, rule=exc.rule,
                             sent_ns=self._clock_ns())
        self._publish(rejected_topic(parsed.vin), pack_rejection(reply))
        self._counters.bump(keys.REPLY_COUNTERS, "sent")
        return True


def safety_qos_screen(refuse: Refuse) -> Screen:
    """A screen that refuses a safety call delivered at QoS 0 through ``refuse`` (the
    lane's rejection branch); anything at QoS 1 passes with one comparison."""

    def screen(topic: str, payload: bytes, qos: int) -> bool:
        if qos >= 1:
            return False
        try:
            check_delivery_qos(parse_topic(topic).kind, qos)
        except ProtocolError as exc:
            if exc.field != "qos":  # a bad topic is the handler's refusal, with its rule
                return False
            refuse(topic, payload, exc)
            return True
        return False

    return screen
