"""The inbox makes a redelivery harmless; migrations apply once, in order, even when processes race."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from messaging.event import Envelope
from messaging.inbox import PgClaims, prune_inbox
from messaging.migrations import LIBRARY, migrate, prepare_database
from tests.support.messaging_live import publisher_and_consumer_side
from tests.support.outbox_live import EFFECTS, TOPOLOGY, PaymentNoted
from tests.support.waiting import eventually


async def test_a_consumer_crash_after_commit_and_before_ack_has_no_second_effect(
    pool, ledger, make_broker, prefix, rabbit
) -> None:
    publisher, consumer_side = await publisher_and_consumer_side(make_broker, TOPOLOGY, prefix, "ib")
    guarded = ledger.inbox.guard(ledger.pool, ledger.effect)
    crashed: list[str] = []

    async def crash_before_ack(msg, deps) -> None:  # type: ignore[no-untyped-def]
        await guarded(msg, deps)  # committed
        if not crashed:
            crashed.append(str(msg.id))
            async with rabbit.management() as mgmt:  # the process "dies" before its ack
                await eventually(lambda: mgmt.close_connections(rabbit.vhost, "test:ib-consumer"), timeout=15)
            await eventually(lambda: not consumer_side.connection.connected.is_set(), timeout=10)

    async with consumer_side.consumer(EFFECTS, {PaymentNoted: crash_before_ack}, None):
        sent = Envelope.wrap(PaymentNoted(n=1))
        await publisher.publish(sent)
        await eventually(lambda: ledger.inbox.duplicates == 1, timeout=30)  # redelivered after reconnect
    figures = await ledger.figures()
    assert figures == {"delivered": 2, "duplicates_absorbed": 1, "effects": 1, "duplicate_effects": 0}


async def test_claim_is_true_once_per_consumer_and_message(pool) -> None:
    async with pool.acquire() as conn:
        assert await PgClaims(conn).claim("a", "m1") is True
        assert await PgClaims(conn).claim("a", "m1") is False
        assert await PgClaims(conn).claim("b", "m1") is True  # another consumer has its own inbox
        await conn.execute("UPDATE inbox SET received_at = now() - interval '40 days' WHERE consumer = 'a'")
        assert await prune_inbox(conn, 30 * 86400) == 1


async def test_a_claim_rolled_back_with_its_effect_lets_the_retry_through(pool) -> None:
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                assert await PgClaims(conn).claim("c", "m2")
                raise RuntimeError("effect failed")
        except RuntimeError:
            pass
        assert await PgClaims(conn).claim("c", "m2") is True


async def test_migrations_apply_once_in_order_when_two_processes_race(postgres, tmp_path) -> None:
    dsn = await postgres.create(f"_mig_{uuid.uuid4().hex[:6]}")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE widgets (id int PRIMARY KEY);")
    (tmp_path / "0002_second.sql").write_text(
        "ALTER TABLE widgets ADD COLUMN name text; SELECT pg_sleep(0.2);"
    )
    (tmp_path / "notes.txt").write_text("not a migration")
    conns = [await asyncpg.connect(dsn) for _ in range(2)]
    try:
        results = await asyncio.gather(
            *(migrate(c, ("messaging", LIBRARY), ("svc", tmp_path)) for c in conns)
        )
        applied = sorted(v for r in results for v in r)
        assert applied == [
            *("messaging:0001_outbox_inbox", "messaging:0002_outbox_trace_context"),
            "messaging:0003_scheduled_tasks",
            *("svc:0001_first", "svc:0002_second"),
        ]
        versions = [
            r["version"] for r in await conns[0].fetch("SELECT version FROM schema_migrations ORDER BY 1")
        ]
        assert versions == applied
        assert await migrate(conns[0], ("messaging", LIBRARY), ("svc", tmp_path)) == []
    finally:
        for c in conns:
            await c.close()


async def test_prepare_database_creates_the_service_database_from_the_prefix(postgres, tmp_path) -> None:
    (tmp_path / "0001_init.sql").write_text("CREATE TABLE things (id int);")
    dsn = await prepare_database(postgres.database_url, "svc", tmp_path)
    assert dsn.endswith(f"/{postgres.prefix}_svc")
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 4  # messaging 3, svc 1
    finally:
        await conn.close()
    assert await prepare_database(postgres.database_url, "svc", tmp_path) == dsn  # idempotent


async def test_a_pooled_connection_comes_back_clean_without_the_reset_query(postgres) -> None:
    """create_pool skips asyncpg's reset query; a transaction left open is still rolled back."""
    from messaging.db import create_pool

    dsn = await postgres.create(f"_pool_{uuid.uuid4().hex[:6]}")
    pool = await create_pool(dsn, min_size=1, max_size=1)  # one connection: the next acquire reuses it
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE t (n int)")
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO t VALUES (1)")  # an error path that never commits
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM t") == 0

            def noted(*_: object) -> None:
                pass

            await conn.add_listener("paybus_test", noted)  # as the relay does, then undoes
            await conn.remove_listener("paybus_test", noted)
        async with pool.acquire() as conn:
            assert await conn.fetch("SELECT pg_listening_channels()") == []
    finally:
        await pool.close()
