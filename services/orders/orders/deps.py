"""Orders dependencies: the Deps dataclass, the real resources that build it, and FastAPI aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from messaging.topology import ORDERS_DEADLINES, Queue
from orders.repository import PgRepository, Repository
from orders.settings import Settings
from runtime import Check, Resources


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """What routes and handlers need; the entry points build it, tests pass fakes."""

    transaction: Callable[[], AbstractAsyncContextManager[Repository]]
    payment_ttl: float
    deadline_queue: Queue
    checks: Mapping[str, Check] = field(default_factory=dict)  # readiness: raises when down
    now: Callable[[], datetime] = utcnow


class Runtime(Resources):
    """The orders database and broker connection of one process, and the Deps built on them."""

    def deps(self, settings: Settings) -> Deps:
        return Deps(
            transaction=self.transaction,
            payment_ttl=settings.order_payment_ttl,
            deadline_queue=self.broker.topology.queue(ORDERS_DEADLINES.name),
            checks=self.checks(),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgRepository(conn)


def get_deps(request: Request) -> Deps:
    deps: Deps | None = request.app.state.deps
    if deps is None:
        raise RuntimeError("the app's lifespan has not built its dependencies")
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
