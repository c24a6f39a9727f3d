"""A published event reaches a consumer of a bound queue, as an envelope with every AMQP property."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from messaging.event import Envelope, Event
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology
from tests.support.waiting import eventually


class SmokeHappened(Event):
    routing_key: ClassVar[str] = "smoke.happened"
    n: int


SMOKE = Exchange("smoke", ExchangeType.TOPIC)
QUEUE = Queue("smoke.q", binds=(Binding(SMOKE, "smoke.*"),), retry_delays=(0.1,))
TOPOLOGY = Topology(exchanges=(SMOKE,), queues=(QUEUE,), routes={SmokeHappened: (SMOKE,)})


async def test_published_event_is_consumed_with_its_envelope(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    await broker.declare()  # idempotent
    seen: list[Envelope[SmokeHappened]] = []

    async def on_smoke(msg: Envelope[SmokeHappened], deps: None) -> None:
        seen.append(msg)

    async with broker.consumer(QUEUE, {SmokeHappened: on_smoke}, None):
        sent = Envelope.wrap(SmokeHappened(n=7))
        await broker.publish(sent)
        await eventually(lambda: seen)
    assert seen[0].id == sent.id
    assert seen[0].data.n == 7
    assert seen[0].correlation_id == str(sent.id)
    await asyncio.sleep(0)
