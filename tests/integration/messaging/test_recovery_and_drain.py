"""Connection losses lose nothing: consumers resume, publishers retry; a graceful stop drains."""

from __future__ import annotations

import asyncio

from messaging.event import Envelope
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology
from tests.support.messaging_live import Collector, ThingHappened, publisher_and_consumer_side
from tests.support.waiting import eventually

EVENTS = Exchange("rec.things", ExchangeType.TOPIC)
QUEUE = Queue("rec.work", binds=(Binding(EVENTS, "thing.#"),), retry_delays=(0.2,))
TOPOLOGY = Topology(exchanges=(EVENTS,), queues=(QUEUE,), routes={ThingHappened: (EVENTS,)})


async def _close_connections(rabbit, name: str) -> int:
    async with rabbit.management() as mgmt:
        return await eventually(lambda: mgmt.close_connections(rabbit.vhost, name), timeout=15)


async def test_consumer_resumes_after_its_connection_is_closed_with_zero_loss(
    make_broker, prefix, rabbit
) -> None:
    publisher, consumer_side = await publisher_and_consumer_side(make_broker, TOPOLOGY, prefix, "rec")
    handler = Collector(delay=0.001)
    async with consumer_side.consumer(QUEUE, {ThingHappened: handler}, None, prefetch=20):
        sent = [Envelope.wrap(ThingHappened(n=n)) for n in range(400)]
        await asyncio.gather(*(publisher.publish(e) for e in sent[:200]))
        await eventually(lambda: len(handler.seen) >= 50)
        assert await _close_connections(rabbit, "test:rec-consumer") == 1
        await asyncio.gather(*(publisher.publish(e) for e in sent[200:]))
        await eventually(lambda: set(handler.ids) >= {str(e.id) for e in sent}, timeout=30)
    assert set(handler.ids) == {str(e.id) for e in sent}  # 0 lost (a redelivery may repeat one)


async def test_publisher_retries_through_a_connection_loss_with_zero_loss(
    make_broker, prefix, rabbit
) -> None:
    publisher, consumer_side = await publisher_and_consumer_side(make_broker, TOPOLOGY, prefix, "rec-flaky")
    handler = Collector()
    async with consumer_side.consumer(QUEUE, {ThingHappened: handler}, None, prefetch=50):
        sent = [Envelope.wrap(ThingHappened(n=n)) for n in range(600)]
        await asyncio.gather(*(publisher.publish(e) for e in sent[:100]))
        await _close_connections(rabbit, "test:rec-flaky-publisher")
        # these start on a dead connection: each returns only once the broker confirmed it
        await asyncio.gather(*(publisher.publish(e) for e in sent[100:]))
        assert publisher.stats.publish_retries >= 1
        await eventually(lambda: set(handler.ids) >= {str(e.id) for e in sent}, timeout=30)
    assert set(handler.ids) == {str(e.id) for e in sent}


async def test_graceful_stop_finishes_in_flight_messages_and_leaves_the_rest_queued(
    make_broker, prefix
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    slow = Collector(delay=0.3)
    consumer = broker.consumer(QUEUE, {ThingHappened: slow}, None, prefetch=4)
    await consumer.start()
    sent = [Envelope.wrap(ThingHappened(n=n)) for n in range(20)]
    await asyncio.gather(*(broker.publish(e) for e in sent))
    await eventually(lambda: len(slow.attempts) >= 4)
    await consumer.stop()
    started = set(slow.attempts)
    assert set(slow.ids) == started  # everything that had started was finished and acked
    rest = Collector()
    async with broker.consumer(QUEUE, {ThingHappened: rest}, None):
        await eventually(lambda: len(slow.seen) + len(rest.seen) >= 20)
    assert sorted(slow.ids + rest.ids) == sorted(str(e.id) for e in sent)  # none lost, none twice
