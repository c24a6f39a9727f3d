"""Publish-with-confirms and consume throughput: libs/messaging beside raw aio-pika, same queue and body."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import ClassVar

import aio_pika

from benchmarks._support import Figure
from messaging.broker import Broker, Consumer, connect
from messaging.event import Envelope, Event
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology

N = 10_000
IN_FLIGHT = 256
PREFETCH = 256


class BenchTicked(Event):
    routing_key: ClassVar[str] = "bench.ticked"
    n: int
    padding: str


EXCHANGE = Exchange("bench.events", ExchangeType.TOPIC)
QUEUE = Queue("bench.q", binds=(Binding(EXCHANGE, "bench.#"),))
TOPOLOGY = Topology(exchanges=(EXCHANGE,), queues=(QUEUE,), routes={BenchTicked: (EXCHANGE,)})


def _envelope(n: int) -> Envelope[BenchTicked]:
    probe = Envelope.wrap(BenchTicked(n=n, padding=""))
    pad = 1024 - len(probe.model_dump_json())
    return Envelope.wrap(BenchTicked(n=n, padding="x" * pad))  # a 1 KiB JSON body


async def _raw_publish(url: str, n: int = N) -> float:
    connection = await aio_pika.connect_robust(url)
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(EXCHANGE.name)
    bodies = [_envelope(i) for i in range(n)]
    window = asyncio.Semaphore(IN_FLIGHT)

    async def one(env: Envelope[BenchTicked]) -> None:
        message = aio_pika.Message(
            env.model_dump_json().encode(),
            content_type="application/json",
            message_id=str(env.id),
            correlation_id=env.correlation_id,
            type=env.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        async with window:
            await exchange.publish(message, env.type, mandatory=True)

    start = time.perf_counter()
    await asyncio.gather(*(one(b) for b in bodies))
    rate = n / (time.perf_counter() - start)
    await connection.close()
    return rate


async def _our_publish(url: str) -> float:
    broker = await connect(url, name="bench:publish", topology=TOPOLOGY, max_in_flight=IN_FLIGHT)
    bodies = [_envelope(n) for n in range(N)]
    start = time.perf_counter()
    await asyncio.gather(*(broker.publish(b) for b in bodies))
    rate = N / (time.perf_counter() - start)
    await broker.close()
    return rate


async def _raw_consume(url: str, n: int = N) -> float:
    connection = await aio_pika.connect_robust(url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=PREFETCH)
    queue = await channel.get_queue(QUEUE.name)
    done = asyncio.Event()
    count = 0

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal count
        await message.ack()
        count += 1
        if count == n:
            done.set()

    start = time.perf_counter()
    await queue.consume(on_message)
    await done.wait()
    rate = n / (time.perf_counter() - start)
    await connection.close()
    return rate


async def _our_consume(url: str) -> float:
    broker = await connect(url, name="bench:consume", topology=TOPOLOGY)
    done = asyncio.Event()
    count = 0

    async def on_ticked(msg: Envelope[BenchTicked], deps: None) -> None:
        nonlocal count
        count += 1
        if count == N:
            done.set()

    consumer = broker.consumer(QUEUE, {BenchTicked: on_ticked}, None, prefetch=PREFETCH)
    return await consume_rate(broker, consumer, done, N)


async def consume_rate(broker: Broker, consumer: Consumer[None], done: asyncio.Event, n: int) -> float:
    """Messages a second from starting `consumer` until `done` (set at the n-th message); closes `broker`."""
    start = time.perf_counter()
    await consumer.start()
    await done.wait()
    rate = n / (time.perf_counter() - start)
    await consumer.stop()
    await broker.close()
    return rate


async def _fill(url: str, n: int = N) -> None:
    broker = await connect(url, name="bench:fill", topology=TOPOLOGY)
    await asyncio.gather(*(broker.publish(_envelope(i)) for i in range(n)))
    await broker.close()


async def _drained(broker: Broker) -> None:
    channel = await broker.connection.channel()
    queue = await channel.get_queue(QUEUE.name)
    await queue.purge()
    await channel.close()


async def run(url: str, runs: int) -> list[Figure]:
    """Rounds interleave raw and ours (A, B, A, B, ...) so machine noise hits both alike."""
    setup = await connect(url, name="bench:setup", topology=TOPOLOGY)
    await setup.declare()
    cases = [
        ("aiopika_publish_confirmed", _raw_publish, False),
        ("messaging_publish_confirmed", _our_publish, False),
        ("aiopika_consume", _raw_consume, True),
        ("messaging_consume", _our_consume, True),
    ]
    values: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(runs):
        for name, measure, fill in cases:
            await _drained(setup)
            if fill:
                await _fill(url)
            values[name].append(await measure(url))
    await _drained(setup)
    await setup.close()
    figures = [Figure(name, statistics.median(v), "msg/s", v) for name, v in values.items()]
    med = {f.name: f.value for f in figures}
    for what in ("publish", "consume"):
        ratios = [
            ours / raw
            for ours, raw in zip(
                values[f"messaging_{what}" + ("_confirmed" if what == "publish" else "")],
                values[f"aiopika_{what}" + ("_confirmed" if what == "publish" else "")],
                strict=True,
            )
        ]
        suffix = "_confirmed" if what == "publish" else ""
        ratio = med[f"messaging_{what}{suffix}"] / med[f"aiopika_{what}{suffix}"]
        figures.append(Figure(f"messaging_{what}_vs_aiopika", ratio, "ratio", ratios))
    return figures
