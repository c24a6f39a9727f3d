"""Orders app factory: create_app(settings, deps=None) wires routers, limits and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from orders._limits import BodyLimit
from orders._metrics import Metrics
from orders.deps import Deps, Runtime
from orders.routes import health, orders, products
from orders.settings import Settings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _real_deps(settings: Settings) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, name="orders-api")
        app.state.deps = runtime.deps(settings)
        try:
            yield
        finally:
            app.state.deps = None
            await runtime.close()

    return lifespan


def create_app(settings: Settings, deps: Deps | None = None) -> FastAPI:
    """Nothing connects here: the lifespan builds real deps when none are given (tests pass fakes)."""
    app = FastAPI(
        title="orders",
        description="Catalogue and orders; order state follows payment events",
        lifespan=None if deps else _real_deps(settings),
    )
    app.state.deps = deps
    app.state.metrics = Metrics()
    app.add_middleware(BodyLimit, max_bytes=settings.orders_max_body_bytes)
    for module in (products, orders, health):
        app.include_router(module.router)
    return app
