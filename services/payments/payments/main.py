"""payments composition root: create_app(settings, deps=None) and the real dependencies."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
from fastapi import FastAPI

from payments.deps import Deps
from payments.orders_client import HttpOrders
from payments.repository import PgStore
from payments.routes import checkout, webhook
from payments.settings import Settings
from payments.stripe_gateway import StripeGateway, WebhookVerifier
from runtime import SERVICE_TOKEN_REQUIRED, UNAUTHORIZED, Check, Health, Resources, protect
from runtime.health import router as health_router
from runtime.http import install_limits, install_request_id
from runtime.resources import broker_check

KIB = 1024
MAX_BODY = 64 * KIB  # checkout requests
MAX_WEBHOOK_BODY = 1024 * KIB  # Stripe's events stay far below this


def stripe_gateway(settings: Settings) -> StripeGateway:
    return StripeGateway(
        settings.stripe_secret_key.get_secret_value(),
        settings.stripe_api_base,
        timeout=settings.payments_stripe_timeout,
        retries=settings.payments_stripe_retries,
    )


@contextlib.asynccontextmanager
async def deps_on(
    settings: Settings, pool: asyncpg.Pool[asyncpg.Record], broker_ready: Check | None = None
) -> AsyncIterator[Deps]:
    """Deps on an open pool: the Stripe client and the orders client, closed on exit (API, worker, CLI)."""
    gateway = stripe_gateway(settings)
    orders = HttpOrders(settings.orders_url, settings.token() or "")
    deps = Deps(
        settings=settings,
        store=PgStore(pool),
        stripe=gateway,
        verifier=WebhookVerifier(settings.webhook_secrets),
        orders=orders,
    )
    if broker_ready is not None:
        deps.broker_ready = broker_ready
    try:
        yield deps
    finally:
        await orders.aclose()
        await gateway.aclose()


@contextlib.asynccontextmanager
async def open_deps(settings: Settings) -> AsyncIterator[Deps]:
    """Database (migrated), a broker connection for readiness, the Stripe client; closed on exit."""
    resources = await Resources.open(settings, "payments", name="payments-api")
    try:
        async with deps_on(settings, resources.pool, broker_check(resources.broker)) as deps:
            yield deps
    finally:
        await resources.close()


def create_app(settings: Settings, deps: Deps | None = None) -> FastAPI:
    """The payments API; with `deps` (tests) nothing is opened, else the lifespan opens the real ones."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_deps(settings) as real:
            _use(app, real)
            yield

    app = FastAPI(
        title="payments",
        description="Stripe Checkout sessions and the verified Stripe webhook",
        lifespan=None if deps else lifespan,
    )
    _use(app, deps)
    protect(app, settings.token())
    install_limits(
        app, max_body=MAX_BODY, limits={"/webhook": MAX_WEBHOOK_BODY}, read_timeout=settings.http_read_timeout
    )
    install_request_id(app)
    for module in (checkout, webhook):
        app.include_router(module.router, dependencies=SERVICE_TOKEN_REQUIRED, responses=UNAUTHORIZED)
    app.include_router(health_router)
    return app


def _use(app: FastAPI, deps: Deps | None) -> None:
    app.state.deps = deps
    if deps is not None:
        checks = {"database": deps.store.ping, "broker": deps.broker_ready}
        app.state.health = Health(ready=checks, registries=[deps.metrics.registry])
