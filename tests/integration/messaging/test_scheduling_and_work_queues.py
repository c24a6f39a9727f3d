"""Scheduled messages never arrive early; a task on a work queue is done by exactly one worker."""

from __future__ import annotations

import asyncio

import pytest

from messaging.event import Envelope
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology
from tests.support.messaging_live import Collector, JobRequested
from tests.support.waiting import eventually

TASKS = Exchange("tasks", ExchangeType.DIRECT)
LATER = Queue("later", scheduled=True)
JOBS = Queue("jobs.work", binds=(Binding(TASKS, "job.requested"),))
TOPOLOGY = Topology(exchanges=(TASKS,), queues=(LATER, JOBS), routes={JobRequested: (TASKS,)}, delay_levels=4)


async def test_delayed_messages_never_arrive_early_and_are_not_held_by_a_consumer(
    make_broker, prefix
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    handler = Collector()
    loop = asyncio.get_running_loop()
    async with broker.consumer(LATER, {JobRequested: handler}, None):
        start = loop.time()
        delays = {3: 3.0, 1: 1.0, 2: 1.2, 0: 0.0}  # n -> delay; 1.2 s rounds up to 2 s
        for n, delay in delays.items():
            await broker.send(Envelope.wrap(JobRequested(n=n)), LATER, delay=delay)
        await eventually(lambda: len(handler.seen) == 4, timeout=15)
    arrived = dict(zip((m.data.n for m in handler.seen), handler.times, strict=True))
    for n, delay in delays.items():
        assert arrived[n] - start >= delay - 0.01, f"message {n} arrived early"
        assert arrived[n] - start <= delay + 2.5, f"message {n} arrived far too late"
    assert [m.data.n for m in handler.seen] == [0, 1, 2, 3]


async def test_a_delay_beyond_the_levels_is_refused(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    with pytest.raises(ValueError, match="exceeds"):
        await broker.send(Envelope.wrap(JobRequested()), LATER, delay=16)
    with pytest.raises(ValueError, match="scheduled"):
        await broker.send(Envelope.wrap(JobRequested()), JOBS, delay=1)


async def test_competing_workers_share_a_queue_without_duplicates(make_broker, prefix) -> None:
    publisher = await make_broker(TOPOLOGY, prefix, name="test:publisher")
    await publisher.declare()
    workers = [await make_broker(TOPOLOGY, prefix, name=f"test:worker-{i}") for i in range(3)]
    handlers = [Collector(delay=0.002) for _ in workers]
    consumers = [
        w.consumer(JOBS, {JobRequested: h}, None, prefetch=5) for w, h in zip(workers, handlers, strict=True)
    ]
    for c in consumers:
        await c.start()
    sent = [Envelope.wrap(JobRequested(n=n)) for n in range(300)]
    await asyncio.gather(*(publisher.publish(e) for e in sent))
    await eventually(lambda: sum(len(h.seen) for h in handlers) >= 300, timeout=30)
    for c in consumers:
        await c.stop()
    done = [i for h in handlers for i in h.ids]
    assert sorted(done) == sorted(str(e.id) for e in sent)  # every task once, none twice
    assert all(h.seen for h in handlers)  # the work was shared
