"""notifier: create_app(settings, deps=None): the health and metrics API (no other routes)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg
from fastapi import FastAPI

from messaging.broker import Broker, connect
from messaging.db import create_pool
from notifier.deps import ApiDeps
from notifier.repository import PgRepository
from notifier.routes import health
from notifier.settings import Settings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class Probes:
    """Readiness checks that connect lazily, so the API starts (and says 503) while a server is down."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._broker: Broker | None = None

    async def _ensure_pool(self) -> asyncpg.Pool[asyncpg.Record]:
        if self._pool is None:
            self._pool = await create_pool(self._settings.database_dsn("notifier"), min_size=0, max_size=2)
        return self._pool

    async def database(self) -> None:
        pool = await self._ensure_pool()
        await pool.fetchval("SELECT 1")

    async def broker(self) -> None:
        if self._broker is None:
            self._broker = await connect(self._settings.amqp_url, name="notifier-api")
        if not self._broker.connection.connected.is_set():
            raise ConnectionError("broker connection lost; reconnecting")

    async def count_emails(self) -> dict[str, int]:
        pool = await self._ensure_pool()
        async with pool.acquire() as conn:
            return await PgRepository(conn).count_emails()

    async def close(self) -> None:
        if self._broker is not None:
            with contextlib.suppress(Exception):
                await self._broker.close()
        if self._pool is not None:
            await self._pool.close()


def real_deps_lifespan(settings: Settings) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        probes = Probes(settings)
        checks = {"database": probes.database, "broker": probes.broker}
        app.state.deps = ApiDeps(checks=checks, count_emails=probes.count_emails)
        try:
            yield
        finally:
            await probes.close()

    return lifespan


def create_app(settings: Settings, deps: ApiDeps | None = None) -> FastAPI:
    app = FastAPI(title="notifier", lifespan=None if deps else real_deps_lifespan(settings))
    app.state.deps = deps  # fakes from tests; else set by the lifespan
    app.include_router(health.router)
    return app
