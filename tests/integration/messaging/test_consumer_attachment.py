"""A consumer that lost its place on the queue notices and attaches again; readiness tells the truth."""

from __future__ import annotations

import asyncio

from messaging.event import Envelope
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology
from tests.support.messaging_live import Collector, ThingHappened, publisher_and_consumer_side
from tests.support.waiting import eventually

EVENTS = Exchange("att.things", ExchangeType.TOPIC)
QUEUE = Queue("att.work", binds=(Binding(EVENTS, "thing.#"),), retry_delays=(0.2,))
TOPOLOGY = Topology(exchanges=(EVENTS,), queues=(QUEUE,), routes={ThingHappened: (EVENTS,)})


async def test_a_consumer_whose_queue_was_deleted_and_declared_again_attaches_again(
    make_broker, prefix, rabbit
) -> None:
    """The broker's consumer-cancel (queue deleted) leaves aio-pika consuming nothing: run() repairs it."""
    publisher, side = await publisher_and_consumer_side(make_broker, TOPOLOGY, prefix, "att")
    handler = Collector()
    consumer = side.consumer(QUEUE, {ThingHappened: handler}, None, prefetch=10)
    task = asyncio.create_task(consumer.run(check_every=0.2))
    await eventually(lambda: consumer.attached)
    await publisher.publish(Envelope.wrap(ThingHappened(n=1)))
    await eventually(lambda: len(handler.seen) == 1)

    channel = await publisher.connection.channel()
    await channel.queue_delete(prefix + QUEUE.name)  # the broker cancels our consumer
    await channel.close()
    await publisher.declare()  # an operator (or a deploy) declares the topology again: an empty queue
    await publisher.publish(Envelope.wrap(ThingHappened(n=2)))  # waits in the queue: no consumer yet
    await eventually(lambda: len(handler.seen) == 2, timeout=15)
    assert consumer.attached
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await consumer.stop(grace=5)
    assert not consumer.attached


async def test_a_handler_running_when_its_channel_is_replaced_finishes_its_work(make_broker, prefix) -> None:
    """Closing a channel cancels the delivery tasks aiormq runs on it. Attaching again closes the old
    channel; a handler cut off there after its outside effect and before its commit made the notifier
    send a receipt twice (make chaos, broker-restarted). Handlers now run to their end."""
    publisher, side = await publisher_and_consumer_side(make_broker, TOPOLOGY, prefix, "att-midway")
    started, go_on, finished = asyncio.Event(), asyncio.Event(), []

    async def slow(msg, deps) -> None:  # type: ignore[no-untyped-def]
        started.set()
        await go_on.wait()  # the consumer attaches again on a new channel while the handler is here
        finished.append(msg.data.n)

    consumer = side.consumer(QUEUE, {ThingHappened: slow}, None, prefetch=1)
    task = asyncio.create_task(consumer.run(check_every=0.2))
    await eventually(lambda: consumer.attached)
    await publisher.publish(Envelope.wrap(ThingHappened(n=7)))
    await asyncio.wait_for(started.wait(), 10)
    old = consumer._channel
    channel = await publisher.connection.channel()
    await channel.queue_delete(prefix + QUEUE.name)
    await channel.close()
    await publisher.declare()
    await eventually(lambda: consumer._channel is not old and consumer.attached, timeout=15)
    go_on.set()
    await eventually(lambda: 7 in finished, timeout=10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await consumer.stop(grace=5)
