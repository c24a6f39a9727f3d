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
from notifier.domain import EmailState
from notifier.repository import PgRepository
from notifier.settings import Settings
from runtime import Health, protect
from runtime.health import router as health_router
from runtime.http import install_request_id
from runtime.resources import broker_check

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
        await broker_check(self._broker)()

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


def _use(app: FastAPI, deps: ApiDeps | None) -> None:
    if deps is None:
        app.state.health = None
        return

    async def count_stored() -> None:
        counts = await deps.count_emails()
        for state in EmailState:
            deps.metrics.stored.labels(state.value).set(counts.get(state.value, 0))

    app.state.health = Health(
        ready=deps.checks, registries=[deps.metrics.registry], before_scrape=[count_stored]
    )


def real_deps_lifespan(settings: Settings) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        probes = Probes(settings)
        checks = {"database": probes.database, "broker": probes.broker}
        _use(app, ApiDeps(checks=checks, count_emails=probes.count_emails))
        try:
            yield
        finally:
            _use(app, None)
            await probes.close()

    return lifespan


def create_app(settings: Settings, deps: ApiDeps | None = None) -> FastAPI:
    app = FastAPI(title="notifier", lifespan=None if deps else real_deps_lifespan(settings))
    _use(app, deps)  # fakes from tests; else set by the lifespan
    protect(app, settings.token())  # no internal route yet: the guard is ready for the first one
    app.include_router(health_router)
    install_request_id(app)
    return app
