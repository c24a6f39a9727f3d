"""Every SQL statement of the notifier's repository against a real, migrated database."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest_asyncio

from messaging.db import create_pool
from messaging.events.orders import OrderLine, OrderStatus
from messaging.migrations import prepare_database
from notifier import domain
from notifier.domain import EmailState, Order
from notifier.repository import PgRepository
from runtime import migrations_dir

ORDER = Order(
    uuid.uuid4(),
    "repo@example.com",
    (OrderLine(product_id="p1", name="Mug", quantity=2, unit_price=1250, line_total=2500),),
    2500,
    "eur",
    OrderStatus.PENDING,
    datetime(2025, 1, 2, 9, 0, tzinfo=UTC),
    payment_deadline=datetime(2025, 1, 2, 10, 0, tzinfo=UTC),
)


@pytest_asyncio.fixture
async def pool(postgres) -> AsyncIterator[asyncpg.Pool]:
    dsn = await prepare_database(
        postgres.dsn(f"{postgres.prefix}_{uuid.uuid4().hex[:6]}"), "notifier", migrations_dir("notifier")
    )
    pool = await create_pool(dsn, min_size=1, max_size=2)
    yield pool
    await pool.close()


async def test_an_order_round_trips_and_the_first_copy_wins(pool) -> None:
    async with pool.acquire() as conn:
        repo = PgRepository(conn)
        assert await repo.get_order(ORDER.id) is None
        await repo.save_order(ORDER)
        other = Order(ORDER.id, "other@example.com", (), 1, "usd", OrderStatus.PAID, ORDER.created_at)
        await repo.save_order(other)
        assert await repo.get_order(ORDER.id) == ORDER
        await repo.set_status(ORDER.id, OrderStatus.PAID, 1)
        locked = await repo.lock_order(ORDER.id)
        assert (locked.status, locked.refund_reversals) == (OrderStatus.PAID, 1)


async def test_lines_an_older_event_lacked_are_filled_in_by_a_later_one(pool) -> None:
    bare = dataclasses.replace(ORDER, id=uuid.uuid4(), lines=())
    async with pool.acquire() as conn:
        repo = PgRepository(conn)
        await repo.save_order(bare)
        await repo.save_order(dataclasses.replace(bare, lines=ORDER.lines, email="later@example.com"))
        stored = await repo.get_order(bare.id)
        assert (stored.lines, stored.email) == (ORDER.lines, bare.email)


async def test_an_email_row_goes_from_intended_to_sent_once(pool) -> None:
    mail = domain.confirmation(ORDER, "http://shop")
    async with pool.acquire() as conn:
        repo = PgRepository(conn)
        await repo.save_order(ORDER)
        assert await repo.lock_email(ORDER.id, mail.kind) is None
        await repo.record_intent(mail, "m-1", "c-1")
        await repo.record_intent(mail, "m-2", "c-2")  # a repeat keeps the first
        async with conn.transaction():
            assert await repo.lock_email(ORDER.id, mail.kind) is EmailState.INTENDED
            await repo.record_failure(ORDER.id, mail.kind, EmailState.INTENDED, "451 later")
        await repo.mark_sent(ORDER.id, mail.kind)
        assert await repo.lock_email(ORDER.id, mail.kind) is EmailState.SENT
        row = await conn.fetchrow("SELECT * FROM emails")
        assert (row["message_id"], row["cause_id"], row["correlation_id"]) == (mail.message_id, "m-1", "c-1")
        assert (row["attempts"], row["last_error"], row["recipient"]) == (2, None, "repo@example.com")
        assert row["sent_at"] is not None
        await repo.record_intent(domain.refund(ORDER, 100, 100), "m-3", "c-3")
        await repo.record_failure(ORDER.id, "refund.100", EmailState.FAILED, "550 " + "x" * 2000)
        assert await repo.count_emails() == {"sent": 1, "failed": 1}
        assert len(await conn.fetchval("SELECT last_error FROM emails WHERE kind = 'refund.100'")) == 1000


async def test_one_delivery_at_a_time_holds_the_send_lease_until_it_records_the_outcome(pool) -> None:
    mail = domain.confirmation(ORDER, "http://shop")
    async with pool.acquire() as conn:
        repo = PgRepository(conn)
        await repo.save_order(ORDER)
        await repo.record_intent(mail, "m-1", "c-1")
        assert await repo.take_lease(ORDER.id, mail.kind, 30)
        assert not await repo.take_lease(ORDER.id, mail.kind, 30)  # another delivery: not yet
        await repo.record_failure(ORDER.id, mail.kind, EmailState.INTENDED, "451 later")  # ends the lease
        assert await repo.take_lease(ORDER.id, mail.kind, 0.01)
        await conn.execute("SELECT pg_sleep(0.05)")
        assert await repo.take_lease(ORDER.id, mail.kind, 30)  # the holder died: its lease ran out
        await repo.mark_sent(ORDER.id, mail.kind)
        assert not await repo.take_lease(ORDER.id, mail.kind, 30)  # sent: never again


async def test_the_inbox_claims_a_message_once_per_consumer(pool) -> None:
    async with pool.acquire() as conn:
        repo = PgRepository(conn)
        assert await repo.claim("notifier.orders", "m-1")
        assert not await repo.claim("notifier.orders", "m-1")
        assert await repo.claim("notifier.payments", "m-1")


async def test_an_email_needs_a_known_order(pool) -> None:
    async with pool.acquire() as conn:
        try:
            await PgRepository(conn).record_intent(domain.confirmation(ORDER, "http://s"), "m", "c")
        except asyncpg.ForeignKeyViolationError:
            return
    raise AssertionError("an e-mail row for an unknown order was accepted")


async def test_recent_mails_of_a_kind_to_an_address_are_counted_and_held_ones_stored(pool) -> None:
    # Issue 13, finding 5: the notifier's throttle reads these counts and records 'held' rows.
    other = Order(
        uuid.uuid4(), "REPO@example.com", ORDER.lines, 2500, "eur", OrderStatus.PENDING, ORDER.created_at
    )
    async with pool.acquire() as conn:
        repo = PgRepository(conn)
        for order in (ORDER, other):
            await repo.save_order(order)
        async with conn.transaction():
            await repo.lock_address("repo@example.com")
            assert await repo.count_recent("repo@example.com", "confirmation", 3600) == 0
            await repo.record_intent(domain.confirmation(ORDER, "http://s"), "m-1", "c-1")
            await repo.record_intent(domain.refund(ORDER, 100, 100), "m-2", "c-2")
            await repo.record_intent(domain.confirmation(other, "http://s"), "m-3", "c-3", EmailState.HELD)
        assert await repo.count_recent("Repo@Example.com", "confirmation", 3600) == 1  # held ones not
        assert await repo.count_recent("repo@example.com", "refund", 3600) == 1
        assert await repo.count_recent("someone@example.com", "confirmation", 3600) == 0
        await conn.execute("UPDATE emails SET created_at = now() - interval '2 hours'")
        assert await repo.count_recent("repo@example.com", "confirmation", 3600) == 0
        assert await repo.email_state(other.id, "confirmation") is EmailState.HELD
        assert await repo.email_state(other.id, "receipt") is None
        assert await repo.count_emails() == {"intended": 2, "held": 1}
