"""A broker restart (every node's app stopped and started) loses nothing and wedges nothing.

On a RabbitMQ node of our own (chaos.servers), never the shared one. Before the fix, the payments relay
logged three publish retries after such a restart and then nothing for minutes (issue #12).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from chaos.servers import RabbitCluster, rabbit_available, rabbit_cluster
from messaging.broker import connect
from messaging.event import Envelope
from messaging.topology import Binding, Exchange, ExchangeType, Queue, QueueType, Topology
from tests.support.messaging_live import Collector, ThingHappened
from tests.support.waiting import eventually

EVENTS = Exchange("rst.things", ExchangeType.TOPIC)
QUEUE = Queue("rst.work", binds=(Binding(EVENTS, "thing.#"),), retry_delays=(0.2,), type=QueueType.QUORUM)
TOPOLOGY = Topology(exchanges=(EVENTS,), queues=(QUEUE,), routes={ThingHappened: (EVENTS,)})


@pytest.fixture(scope="module")
def node() -> Iterator[RabbitCluster]:
    if reason := rabbit_available():
        pytest.fail(f"cannot run a RabbitMQ node of our own: {reason}", pytrace=False)
    with rabbit_cluster(1) as started:
        yield started


async def test_publishers_and_consumers_carry_on_after_the_broker_restarts(node: RabbitCluster) -> None:
    url = node.amqp_url()
    publisher = await connect(url, name="test:rst-publisher", topology=TOPOLOGY, retry_for=120)
    side = await connect(url, name="test:rst-consumer", topology=TOPOLOGY)
    try:
        await publisher.declare()
        handler = Collector()
        consumer = side.consumer(QUEUE, {ThingHappened: handler}, None, prefetch=20)
        watch = asyncio.create_task(consumer.run(check_every=0.5))
        await eventually(lambda: consumer.attached)
        sent = [Envelope.wrap(ThingHappened(n=n)) for n in range(300)]
        await asyncio.gather(*(publisher.publish(e) for e in sent[:100]))

        in_flight = asyncio.gather(*(publisher.publish(e) for e in sent[100:200]))
        await asyncio.to_thread(node.first.stop_app)  # each publish above returns only once confirmed
        await asyncio.sleep(1)
        await asyncio.to_thread(node.first.start_app)
        await asyncio.wait_for(in_flight, 120)  # before: wedged here, silent, with the process alive
        await asyncio.gather(*(publisher.publish(e) for e in sent[200:]))

        await eventually(lambda: set(handler.ids) >= {str(e.id) for e in sent}, timeout=60)
        await eventually(lambda: consumer.attached and publisher.is_ready(), timeout=30)
        assert not watch.done(), watch
        watch.cancel()
        await asyncio.gather(watch, return_exceptions=True)
        await consumer.stop(grace=5)
    finally:
        await publisher.close()
        await side.close()
    assert set(handler.ids) == {str(e.id) for e in sent}  # 0 lost (a redelivery may repeat one)
