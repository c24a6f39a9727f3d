"""runtime: a service's database (created and migrated by the one convention) and broker connection.

Migrations live in `services/<name>/migrations/` beside the package (`NNNN_name.sql`, applied in order).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self

import asyncpg

from messaging.broker import Broker, connect
from messaging.db import create_pool
from messaging.migrations import prepare_database
from messaging.topology import TOPOLOGY, Topology
from runtime.health import Check, CheckFailed
from runtime.settings import BaseServiceSettings


def migrations_dir(service: str) -> Path:
    """`<repo>/services/<service>/migrations`: the folder beside the installed (editable) package."""
    spec = importlib.util.find_spec(service)
    if spec is None or spec.origin is None:
        raise LookupError(f"no package named {service!r}")
    return Path(spec.origin).resolve().parent.parent / "migrations"


async def open_database(
    settings: BaseServiceSettings, service: str, *, min_size: int = 2, max_size: int = 10
) -> asyncpg.Pool[asyncpg.Record]:
    """The service's own database (`<DATABASE_URL name>_<service>`), created and migrated if needed."""
    dsn = await prepare_database(settings.database_url, service, migrations_dir(service))
    return await create_pool(dsn, min_size=min_size, max_size=max_size)


def database_check(pool: asyncpg.Pool[asyncpg.Record]) -> Check:
    async def database() -> None:
        await pool.fetchval("SELECT 1")

    return database


def broker_check(broker: Broker) -> Check:
    """Broker.ready(): the connection is up and the publish channel open (reopened if it can be)."""

    async def broker_up() -> None:
        await broker.ready()

    return broker_up


class Lagging(Protocol):
    async def lag(self) -> float: ...


def outbox_lag_check(relay: Lagging, bound: float) -> Check:
    """Fails while the oldest unsent outbox row is older than `bound` seconds (OUTBOX_MAX_LAG)."""

    async def outbox() -> None:
        lag = await relay.lag()
        if lag > bound:
            raise CheckFailed(f"outbox lag {lag:.1f}s over {bound:.0f}s")

    return outbox


@dataclass
class Resources:
    """The real resources of one process: a migrated database pool and a broker connection."""

    pool: asyncpg.Pool[asyncpg.Record]
    broker: Broker

    @classmethod
    async def open(
        cls,
        settings: BaseServiceSettings,
        service: str,
        *,
        name: str,
        topology: Topology = TOPOLOGY,
        prefix: str = "",
        max_size: int = 10,
    ) -> Self:
        """`name` shows in the broker's management UI (`orders-worker`)."""
        pool = await open_database(settings, service, max_size=max_size)
        try:
            broker = await connect(settings.amqp_url, name=name, topology=topology, prefix=prefix)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, broker)

    def checks(self) -> Mapping[str, Check]:
        return {"database": database_check(self.pool), "broker": broker_check(self.broker)}

    async def close(self) -> None:
        try:
            await self.broker.close()
        finally:
            await self.pool.close()
