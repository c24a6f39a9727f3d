"""Orders app factory: create_app(settings, deps=None) wires routers, limits and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from orders.deps import Deps, Runtime
from orders.metrics import Metrics
from orders.routes import orders, products, reviews
from orders.settings import Settings
from runtime import SERVICE_TOKEN_REQUIRED, UNAUTHORIZED, Health, protect
from runtime.health import router as health_router
from runtime.http import install_limits, install_request_id

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _use(app: FastAPI, deps: Deps | None) -> None:
    app.state.deps = deps
    checks = deps.checks if deps is not None else {}
    app.state.health = Health(ready=checks, registries=[app.state.metrics.registry])


def _real_deps(settings: Settings) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, "orders", name="orders-api")
        _use(app, runtime.deps(settings))
        try:
            yield
        finally:
            _use(app, None)
            await runtime.close()

    return lifespan


def create_app(settings: Settings, deps: Deps | None = None) -> FastAPI:
    """Nothing connects here: the lifespan builds real deps when none are given (tests pass fakes)."""
    app = FastAPI(
        title="orders",
        description="Catalogue and orders; order state follows payment events",
        lifespan=None if deps else _real_deps(settings),
    )
    app.state.metrics = Metrics()
    _use(app, deps)
    protect(app, settings.token())
    install_limits(app, max_body=settings.orders_max_body_bytes, read_timeout=settings.http_read_timeout)
    install_request_id(app)
    for module in (products, orders, reviews):
        app.include_router(module.router, dependencies=SERVICE_TOKEN_REQUIRED, responses=UNAUTHORIZED)
    app.include_router(health_router)
    return app
