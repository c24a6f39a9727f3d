"""The relay outlives its database connections: terminated backends never end it or its LISTEN."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import pytest

from messaging.db import unavailable
from messaging.event import Envelope
from messaging.outbox import Relay, add_to_outbox
from tests.support.outbox_live import EFFECTS, TOPOLOGY, PaymentNoted
from tests.support.waiting import eventually

TERMINATE = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid()"""


async def _commit(pool, count: int, start: int = 0) -> None:
    """The business transaction; right after a termination it may get a dying connection and is
    tried again, as its caller would (Stripe retries a webhook answered 5xx)."""

    async def once() -> bool:
        try:
            async with pool.acquire() as conn, conn.transaction():
                for i in range(count):
                    await add_to_outbox(conn, Envelope.wrap(PaymentNoted(n=start + i)))
        except Exception as exc:
            if not unavailable(exc):
                raise
            return False
        return True

    await eventually(once, timeout=10)


async def _all_sent(pool) -> bool:
    try:
        return bool(await pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL"))
    except Exception as exc:  # the test's own pooled connection may be one that was just terminated
        if not unavailable(exc):
            raise
        return False


async def _terminate_backends(postgres, pool) -> int:
    """What `pg_terminate_backend` on the service's connections does in production (issue #12)."""
    database = await pool.fetchval("SELECT current_database()")
    admin = await asyncpg.connect(postgres.server_dsn)
    try:
        return int(await admin.fetchval(TERMINATE, database))
    finally:
        await admin.close()


async def test_the_relay_keeps_relaying_and_listening_after_its_backends_are_terminated(
    pool, ledger, make_broker, prefix, postgres
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    # A poll slower than every wait below: rows committed after the fault go out within the wait only
    # if NOTIFY reaches the relay, i.e. its LISTEN connection was re-established.
    relay = Relay(pool, broker, poll_interval=60.0)
    task = asyncio.create_task(relay.run())
    async with broker.consumer(EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, ledger.effect)}, None):
        await _commit(pool, 20)
        await eventually(lambda: ledger.inbox.delivered >= 20, timeout=10)
        for round_ in range(3):  # more than once: the second loss must be noticed like the first
            assert await _terminate_backends(postgres, pool) >= 1  # the relay's LISTEN connection at least
            await eventually(lambda: relay._listener is not None, timeout=10)
            await _commit(pool, 20, start=20 * (round_ + 1))
            await eventually(lambda r=round_: ledger.inbox.delivered >= 20 * (r + 2), timeout=10)
        assert not task.done(), task  # it used to end with InterfaceError from listener.is_closed()
        await eventually(lambda: _all_sent(pool))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    figures = await ledger.figures()
    assert figures["effects"] == 80
    assert figures["duplicate_effects"] == 0


async def test_a_batch_cut_short_by_a_terminated_backend_is_published_again_not_lost(
    pool, ledger, make_broker, prefix, postgres
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    await _commit(pool, 30)
    terminated = asyncio.Event()

    async def kill_my_backend(count: int) -> None:  # between publish and mark: the mark never commits
        if not terminated.is_set():
            terminated.set()
            await _terminate_backends(postgres, pool)

    relay = Relay(pool, broker, poll_interval=0.1, after_publish=kill_my_backend)
    task = asyncio.create_task(relay.run())
    async with broker.consumer(EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, ledger.effect)}, None):
        await eventually(lambda: _all_sent(pool), timeout=15)
        await eventually(lambda: ledger.inbox.duplicates >= 30, timeout=10)  # every row twice
        assert not task.done(), task
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert relay.stats.outages >= 1
    figures = await ledger.figures()
    # every row published twice, applied once (deliveries also count handler runs held while the
    # database was unavailable, so they are not asserted)
    assert (figures["duplicates_absorbed"], figures["effects"], figures["duplicate_effects"]) == (30, 30, 0)


async def test_a_refused_connection_to_postgresql_is_unavailable_and_one_to_smtp_is_not() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedError) as to_postgres:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=5)
    assert unavailable(to_postgres.value)
    with pytest.raises(ConnectionRefusedError) as to_smtp:
        await asyncio.open_connection("127.0.0.1", port)
    assert not unavailable(to_smtp.value)


async def test_a_handler_whose_backend_is_terminated_runs_again_in_place_not_round_the_retry_ladder(
    pool, ledger, make_broker, prefix, postgres
) -> None:
    """Before: every message touched by pg_terminate_backend went round <queue>.retry.N (and a long
    outage parked it in the DLQ). Now the consumer holds it and runs it again once the database answers."""
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    killed = asyncio.Event()

    async def effect_killed_once(msg, conn, deps) -> None:  # type: ignore[no-untyped-def]
        if not killed.is_set():
            killed.set()
            await _terminate_backends(postgres, pool)  # this very transaction's backend among them
        await ledger.effect(msg, conn, deps)

    await _commit(pool, 10)
    async with broker.consumer(
        EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, effect_killed_once)}, None
    ):
        relay = asyncio.create_task(Relay(pool, broker, poll_interval=0.1).run())  # the kill hits it too
        await eventually(lambda: _effects(pool, 10), timeout=15)
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
    assert broker.stats.retried == 0
    assert broker.stats.dead_lettered == 0
    assert broker.stats.held_for_database >= 1
    figures = await ledger.figures()
    assert (figures["effects"], figures["duplicate_effects"]) == (10, 0)


async def _effects(pool, count: int) -> bool:
    try:
        return bool(await pool.fetchval("SELECT count(*) = $1 FROM effects", count))
    except Exception as exc:
        if not unavailable(exc):
            raise
        return False
