"""The outbox publishes exactly what was committed, at least once, whatever the broker or relay does."""

from __future__ import annotations

import asyncio

import pytest

from messaging.event import Envelope
from messaging.outbox import Relay, add_to_outbox, outbox_lag
from messaging.topology import Topology
from tests.support.outbox_live import EFFECTS, OB, TOPOLOGY, PaymentNoted
from tests.support.waiting import eventually


class RelayCrashed(Exception):
    """Stands in for a relay process dying between publish and mark."""


async def _commit(pool, count: int, start: int = 0) -> list[Envelope[PaymentNoted]]:
    envelopes = [Envelope.wrap(PaymentNoted(n=start + i)) for i in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        for env in envelopes:
            await add_to_outbox(conn, env)
    return envelopes


async def _unsent(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")


async def _run(relay: Relay) -> asyncio.Task:
    return asyncio.create_task(relay.run())


async def _stop(*tasks: asyncio.Task) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_event_in_a_rolled_back_transaction_is_never_published(
    pool, ledger, make_broker, prefix
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    kept = Envelope.wrap(PaymentNoted(n=1))

    async def failing_business_transaction() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await add_to_outbox(conn, Envelope.wrap(PaymentNoted(n=666)))
            raise RuntimeError("the business transaction failed")

    with pytest.raises(RuntimeError):
        await failing_business_transaction()
    async with pool.acquire() as conn, conn.transaction():
        await add_to_outbox(conn, kept)
    relay = Relay(pool, broker)
    async with broker.consumer(EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, ledger.effect)}, None):
        assert await relay.relay_once() == 1
        await eventually(lambda: ledger.inbox.delivered == 1)
        await asyncio.sleep(0.3)  # give a wrongly published message the time to show up
    figures = await ledger.figures()
    assert figures == {"delivered": 1, "duplicates_absorbed": 0, "effects": 1, "duplicate_effects": 0}
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_events_committed_while_the_relay_lost_the_broker_are_all_published(
    pool, ledger, make_broker, prefix, rabbit
) -> None:
    broker = await make_broker(TOPOLOGY, prefix, name="test:ob-relay", retry_for=2.0)
    await broker.declare()
    reader = await make_broker(TOPOLOGY, prefix, name="test:ob-reader")
    relay = Relay(pool, broker, poll_interval=0.2, backoff_max=0.5)
    task = await _run(relay)
    async with reader.consumer(
        EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, ledger.effect)}, None, prefetch=50
    ):
        committed = await _commit(pool, 50)
        await eventually(lambda: ledger.inbox.delivered >= 50)
        async with rabbit.management() as mgmt:
            await eventually(lambda: mgmt.close_connections(rabbit.vhost, "test:ob-relay"), timeout=15)
        committed += await _commit(pool, 150, start=50)  # committed while the relay's connection is gone
        await eventually(lambda: _all_sent(pool), timeout=30)
        await eventually(lambda: ledger.inbox.delivered - ledger.inbox.duplicates >= 200, timeout=15)
    await _stop(task)
    figures = await ledger.figures()
    assert len(committed) == 200
    assert figures["effects"] == 200  # 0 lost
    assert figures["duplicate_effects"] == 0
    assert relay.stats.published == 200
    async with pool.acquire() as conn:
        assert await outbox_lag(conn) == 0.0


async def _all_sent(pool) -> bool:
    return await _unsent(pool) == 0


async def test_an_unroutable_row_stays_unsent_with_its_attempts_then_goes_out(
    pool, make_broker, prefix
) -> None:
    no_queue = Topology(exchanges=(OB,), queues=(), routes=TOPOLOGY.routes)
    broker = await make_broker(no_queue, prefix)
    await broker.declare()  # the exchange exists, but nothing is bound yet
    await _commit(pool, 3)
    relay = Relay(pool, broker, backoff_max=0.3)
    assert await relay.relay_once() == 0
    rows = await pool.fetch("SELECT attempts, last_error, sent_at FROM outbox")
    assert [r["attempts"] for r in rows] == [1, 1, 1]
    assert all("Unroutable" in r["last_error"] and r["sent_at"] is None for r in rows)
    async with pool.acquire() as conn:
        assert await outbox_lag(conn) > 0
    full = await make_broker(TOPOLOGY, prefix)
    await full.declare()  # now a queue is bound
    sent = 0

    async def relayed_all() -> bool:
        nonlocal sent
        sent += await relay.relay_once()
        return sent == 3

    await eventually(relayed_all, timeout=10)  # each row waits out its own backoff
    assert [r["attempts"] for r in await pool.fetch("SELECT attempts FROM outbox")] == [2, 2, 2]


async def test_a_relay_killed_between_publish_and_mark_republishes_and_the_inbox_absorbs_it(
    pool, ledger, make_broker, prefix
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    await _commit(pool, 20)

    async def die(count: int) -> None:
        raise RelayCrashed(f"killed after publishing {count}")

    async with broker.consumer(EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, ledger.effect)}, None):
        with pytest.raises(RelayCrashed):
            await Relay(pool, broker, after_publish=die).relay_once()
        assert await _unsent(pool) == 20  # never marked: the transaction died with the relay
        restarted = Relay(pool, broker)
        assert await restarted.relay_once() == 20
        await eventually(lambda: ledger.inbox.delivered == 40)
    figures = await ledger.figures()
    assert figures == {"delivered": 40, "duplicates_absorbed": 20, "effects": 20, "duplicate_effects": 0}


async def test_two_relays_on_one_table_publish_every_row_and_leave_none_stuck(
    pool, ledger, make_broker, prefix
) -> None:
    brokers = [await make_broker(TOPOLOGY, prefix, name=f"test:ob-relay-{i}") for i in range(2)]
    await brokers[0].declare()
    await _commit(pool, 600)
    relays = [Relay(pool, b, batch_size=20, poll_interval=0.1) for b in brokers]
    async with brokers[0].consumer(
        EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, ledger.effect)}, None, prefetch=100
    ):
        tasks = [await _run(r) for r in relays]
        await eventually(lambda: _all_sent(pool), timeout=30)
        await eventually(lambda: ledger.inbox.delivered - ledger.inbox.duplicates >= 600, timeout=15)
        await _stop(*tasks)
    published = [r.stats.published for r in relays]
    assert sum(published) >= 600
    assert all(p > 0 for p in published), published  # SKIP LOCKED let both work at once
    assert await _unsent(pool) == 0
    figures = await ledger.figures()
    assert figures["effects"] == 600
    assert figures["duplicate_effects"] == 0


async def test_scheduled_rows_are_delivered_after_their_delay(pool, ledger, make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    loop = asyncio.get_running_loop()
    seen: list[float] = []

    async def effect(msg, conn, deps) -> None:  # type: ignore[no-untyped-def]
        seen.append(loop.time())

    async with pool.acquire() as conn, conn.transaction():
        await add_to_outbox(conn, Envelope.wrap(PaymentNoted(n=1)), queue=EFFECTS, delay=1.5)
    start = loop.time()
    async with broker.consumer(EFFECTS, {PaymentNoted: ledger.inbox.guard(ledger.pool, effect)}, None):
        assert await Relay(pool, broker).relay_once() == 1
        await eventually(lambda: seen, timeout=10)
    assert seen[0] - start >= 1.5 - 0.05


async def test_sent_rows_are_pruned_after_the_retention_period(pool, make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    await _commit(pool, 5)
    relay = Relay(pool, broker, retention=3600)
    await relay.relay_once()
    assert await relay.prune() == 0  # too recent
    await pool.execute(
        "UPDATE outbox SET sent_at = now() - interval '2 hours' WHERE seq IN (SELECT seq FROM outbox LIMIT 2)"
    )
    assert await relay.prune() == 2
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 3
