"""payments dependencies: the Deps the entry point builds, and the FastAPI alias routes use."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Protocol
from uuid import UUID

from fastapi import Depends, Request

from payments.metrics import Metrics
from payments.orders_client import OrdersApi
from payments.repository import Repository
from payments.settings import Settings
from payments.stripe_gateway import StripeApi, WebhookVerifier
from runtime import Check, CheckFailed


class Store(Protocol):
    """Transactions on the payments database and a per-order lock."""

    def transaction(self) -> AbstractAsyncContextManager[Repository]: ...
    def order_lock(self, order_id: UUID) -> AbstractAsyncContextManager[None]: ...
    async def ping(self) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


async def _no_broker() -> None:
    raise CheckFailed("no broker connection")


@dataclass
class Deps:
    settings: Settings
    store: Store
    stripe: StripeApi
    verifier: WebhookVerifier
    orders: OrdersApi
    broker_ready: Check = _no_broker  # readiness: raises while the broker is down
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = utcnow


def get_deps(request: Request) -> Deps:
    deps = request.app.state.deps
    assert isinstance(deps, Deps), "deps are set by create_app or its lifespan"
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
