"""Outbox rows relayed per second (commit → confirmed) and inbox-guarded consumption, beside raw aio-pika."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from benchmarks import messaging_bench as mb
from benchmarks._support import DATABASE_URL, Figure
from messaging.broker import connect
from messaging.db import create_pool
from messaging.event import Envelope
from messaging.inbox import Inbox
from messaging.migrations import LIBRARY, migrate
from messaging.outbox import Relay, add_to_outbox

N = 5_000


@asynccontextmanager
async def scratch_database() -> AsyncIterator[asyncpg.Pool]:
    name = f"paybus_bench_{uuid.uuid4().hex[:6]}"
    server = DATABASE_URL.rsplit("/", 1)[0]
    admin = await asyncpg.connect(server + "/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(f"{server}/{name}")
        await migrate(conn, ("messaging", LIBRARY))
        await conn.close()
        pool = await create_pool(f"{server}/{name}", min_size=2, max_size=20)
        try:
            yield pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _commit_rows(pool: asyncpg.Pool) -> None:
    envelopes = [mb._envelope(n) for n in range(N)]
    for start in range(0, N, 250):
        async with pool.acquire() as conn, conn.transaction():
            for env in envelopes[start : start + 250]:
                await add_to_outbox(conn, env)


async def _relay_rate(url: str, pool: asyncpg.Pool) -> float:
    await pool.execute("TRUNCATE outbox")
    await _commit_rows(pool)
    broker = await connect(url, name="bench:relay", topology=mb.TOPOLOGY)
    relay = Relay(pool, broker, batch_size=500)
    start = time.perf_counter()
    while await relay.relay_once():
        pass
    rate = N / (time.perf_counter() - start)
    await broker.close()
    return rate


async def _inbox_consume_rate(url: str, pool: asyncpg.Pool) -> float:
    await pool.execute("TRUNCATE inbox")
    broker = await connect(url, name="bench:inbox", topology=mb.TOPOLOGY)
    # the services' path: one transaction per delivery, Inbox.accept then the effect, ack after commit
    inbox = Inbox("bench")
    done = asyncio.Event()

    async def effect(msg: Envelope[mb.BenchTicked], conn, deps: None) -> None:  # type: ignore[no-untyped-def]
        if inbox.delivered == N:
            done.set()

    consumer = broker.consumer(
        mb.QUEUE, {mb.BenchTicked: inbox.guard(pool, effect)}, None, prefetch=mb.PREFETCH
    )
    return await mb.consume_rate(broker, consumer, done, N)


async def run(url: str, runs: int) -> list[Figure]:
    """Rounds interleave raw aio-pika with the relay and the inbox-guarded consumer."""
    setup = await connect(url, name="bench:setup-outbox", topology=mb.TOPOLOGY)
    await setup.declare()
    values: dict[str, list[float]] = {
        k: []
        for k in (
            "aiopika_publish_confirmed_5k",
            "outbox_relay",
            "aiopika_consume_5k",
            "inbox_guarded_consume",
        )
    }
    async with scratch_database() as pool:
        for _ in range(runs):
            await mb._drained(setup)
            values["aiopika_publish_confirmed_5k"].append(await mb._raw_publish(url, N))
            await mb._drained(setup)
            values["outbox_relay"].append(await _relay_rate(url, pool))
            values["aiopika_consume_5k"].append(await mb._raw_consume(url, N))
            await mb._drained(setup)
            await mb._fill(url, N)
            values["inbox_guarded_consume"].append(await _inbox_consume_rate(url, pool))
    await mb._drained(setup)
    await setup.close()
    figures = [Figure(name, statistics.median(v), "msg/s", v) for name, v in values.items()]
    med = {f.name: f.value for f in figures}
    figures.append(
        Figure(
            "outbox_relay_vs_aiopika_publish",
            med["outbox_relay"] / med["aiopika_publish_confirmed_5k"],
            "ratio",
            [],
        )
    )
    figures.append(
        Figure(
            "inbox_consume_vs_aiopika_consume",
            med["inbox_guarded_consume"] / med["aiopika_consume_5k"],
            "ratio",
            [],
        )
    )
    return figures
