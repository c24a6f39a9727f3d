"""Fixtures for the outbox and inbox tests: a fresh migrated database and an effects ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from messaging.db import create_pool
from messaging.inbox import Inbox
from messaging.migrations import LIBRARY, migrate
from tests.support.outbox_live import CREATE_EFFECTS, Ledger


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
