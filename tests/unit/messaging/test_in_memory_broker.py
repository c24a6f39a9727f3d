"""The InMemoryBroker fake records publications and delivers through a JSON round trip."""

from __future__ import annotations

from typing import ClassVar

from messaging.event import Envelope, Event
from messaging.testing import InMemoryBroker
from messaging.topology import Queue


class GadgetShipped(Event):
    routing_key: ClassVar[str] = "gadget.shipped"
    count: int


async def test_records_publish_and_send_and_delivers_to_handlers() -> None:
    broker = InMemoryBroker()
    env = Envelope.wrap(GadgetShipped(count=2))
    await broker.publish(env)
    await broker.send(env, Queue("later", scheduled=True), delay=60)
    assert broker.published == [env]
    assert broker.messages[1].queue == "later"
    assert broker.messages[1].delay == 60
    assert broker.of_type(GadgetShipped) == [env, env]
    seen: list[int] = []

    async def on_shipped(msg: Envelope[GadgetShipped], deps: list[int]) -> None:
        deps.append(msg.data.count)

    assert await broker.deliver(env, {GadgetShipped: on_shipped}, seen)
    assert seen == [2]
