"""Database types shared by the outbox, the inbox and the services' repositories."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Release without asyncpg's default reset query (advisory unlock all, CLOSE ALL, UNLISTEN *,
    RESET ALL): one more round trip per transaction, a quarter of all statements in the pipeline.

    paybus leaves no session state behind: no SET, no cursor outside a transaction, and every
    session advisory lock or LISTEN is undone where it was taken. asyncpg still rolls back a
    transaction left open and drops Python-side listeners before calling this.
    """


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool[asyncpg.Record]:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session)
    assert pool is not None  # asyncpg returns None only for a pool created without awaiting it
    return pool
