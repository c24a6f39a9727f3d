"""Fixtures for the outbox and inbox tests: a fresh migrated database and an effects ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import ClassVar

import asyncpg
import pytest_asyncio

from messaging.db import create_pool
from messaging.event import Envelope, Event
from messaging.inbox import Inbox
from messaging.migrations import LIBRARY, migrate
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology

OB = Exchange("ob.events", ExchangeType.TOPIC)
EFFECTS = Queue("ob.effects", binds=(Binding(OB, "ob.#"),), retry_delays=(0.2, 0.4), scheduled=True)


class PaymentNoted(Event):
    routing_key: ClassVar[str] = "ob.payment.noted"
    n: int


TOPOLOGY = Topology(exchanges=(OB,), queues=(EFFECTS,), routes={PaymentNoted: (OB,)}, delay_levels=4)

CREATE_EFFECTS = "CREATE TABLE effects (message_id text NOT NULL, n integer NOT NULL)"
ADD_EFFECT = "INSERT INTO effects (message_id, n) VALUES ($1, $2)"


@dataclass
class Ledger:
    """The consumer side: an inbox-guarded handler whose effect is a row in `effects`."""

    pool: asyncpg.Pool
    inbox: Inbox

    async def effect(self, msg: Envelope[PaymentNoted], conn, deps) -> None:  # type: ignore[no-untyped-def]
        await conn.execute(ADD_EFFECT, str(msg.id), msg.data.n)

    async def figures(self) -> dict[str, int]:
        row = await self.pool.fetchrow(
            "SELECT count(*) AS effects, count(DISTINCT message_id) AS distinct_ FROM effects"
        )
        return {
            "delivered": self.inbox.delivered,
            "duplicates_absorbed": self.inbox.duplicates,
            "effects": row["effects"],
            "duplicate_effects": row["effects"] - row["distinct_"],
        }


@pytest_asyncio.fixture
async def pool(postgres) -> AsyncIterator[asyncpg.Pool]:
    dsn = await postgres.create(f"_ob_{uuid.uuid4().hex[:6]}")
    conn = await asyncpg.connect(dsn)
    await migrate(conn, ("messaging", LIBRARY))
    await conn.execute(CREATE_EFFECTS)
    await conn.close()
    pool = await create_pool(dsn, min_size=1, max_size=8)
    yield pool
    await pool.close()


@pytest_asyncio.fixture
async def ledger(pool) -> Ledger:
    return Ledger(pool, Inbox("ob.effects"))
