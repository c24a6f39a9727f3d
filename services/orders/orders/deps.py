"""Orders dependencies: the Deps dataclass, the real runtime that builds it, and FastAPI aliases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from messaging.broker import Broker, connect
from messaging.db import create_pool
from messaging.migrations import prepare_database
from messaging.topology import TOPOLOGY, Queue, Topology
from orders.repository import PgRepository, Repository
from orders.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
DEADLINES = "orders.deadlines"
Check = Callable[[], Awaitable[bool]]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """What routes and handlers need; the entry points build it, tests pass fakes."""

    transaction: Callable[[], AbstractAsyncContextManager[Repository]]
    payment_ttl: float
    deadline_queue: Queue
    checks: Mapping[str, Check] = field(default_factory=dict)  # readiness: name -> reachable?
    now: Callable[[], datetime] = utcnow


@dataclass
class Runtime:
    """The real resources of one process: a database pool and a broker connection."""

    pool: asyncpg.Pool[asyncpg.Record]
    broker: Broker

    @classmethod
    async def open(
        cls, settings: Settings, *, name: str, topology: Topology = TOPOLOGY, prefix: str = ""
    ) -> Runtime:
        dsn = await prepare_database(settings.database_url, "orders", MIGRATIONS)
        pool = await create_pool(dsn)
        try:
            broker = await connect(settings.amqp_url, name=name, topology=topology, prefix=prefix)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, broker)

    def deps(self, settings: Settings) -> Deps:
        return Deps(
            transaction=self.transaction,
            payment_ttl=settings.order_payment_ttl,
            deadline_queue=self.broker.topology.queue(DEADLINES),
            checks={"database": self._database_up, "broker": self._broker_up},
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgRepository(conn)

    async def _database_up(self) -> bool:
        try:
            async with asyncio.timeout(2):
                return bool(await self.pool.fetchval("SELECT 1"))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def _broker_up(self) -> bool:
        return self.broker.connection.connected.is_set() and not self.broker.connection.is_closed

    async def close(self) -> None:
        try:
            await self.broker.close()
        finally:
            await self.pool.close()


def get_deps(request: Request) -> Deps:
    deps: Deps | None = request.app.state.deps
    if deps is None:
        raise RuntimeError("the app's lifespan has not built its dependencies")
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
