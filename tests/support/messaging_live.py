"""Events, exchanges and a collector shared by the messaging tests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import ClassVar

from messaging.broker import Broker
from messaging.event import Envelope, Event
from messaging.topology import Topology


class ThingHappened(Event):
    routing_key: ClassVar[str] = "thing.happened"
    n: int = 0
    note: str = ""


class ThingAudited(Event):
    routing_key: ClassVar[str] = "thing.audit.logged"
    n: int = 0


class JobRequested(Event):
    routing_key: ClassVar[str] = "job.requested"
    n: int = 0


class Collector:
    """A handler that records what it saw; optionally fails the first `fail` times per message."""

    def __init__(self, fail: int = 0, delay: float = 0.0) -> None:
        self.seen: list[Envelope[Event]] = []
        self.fail = fail
        self.delay = delay
        self.attempts: Counter[str] = Counter()
        self.loop = asyncio.get_event_loop()
        self.times: list[float] = []

    async def __call__(self, msg: Envelope[Event], deps: object) -> None:
        self.attempts[str(msg.id)] += 1
        self.times.append(self.loop.time())
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.attempts[str(msg.id)] <= self.fail:
            raise RuntimeError(f"boom {self.attempts[str(msg.id)]}")
        self.seen.append(msg)

    @property
    def ids(self) -> list[str]:
        return [str(m.id) for m in self.seen]


async def publisher_and_consumer_side(
    make_broker: Callable[..., Awaitable[Broker]], topology: Topology, prefix: str, name: str
) -> tuple[Broker, Broker]:
    """A publisher that declared `topology` and a broker to consume with, each on its own connection.

    The connections are named `test:{name}-publisher` and `test:{name}-consumer`, so a test can have
    the management API close one of them and not the other.
    """
    publisher = await make_broker(topology, prefix, name=f"test:{name}-publisher")
    await publisher.declare()
    return publisher, await make_broker(topology, prefix, name=f"test:{name}-consumer")
