"""payments composition root: create_app(settings, deps=None) and the real dependencies."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from messaging.broker import connect
from messaging.db import create_pool
from messaging.migrations import prepare_database
from payments.deps import Deps
from payments.repository import PgStore
from payments.routes import checkout, health, webhook
from payments.settings import Settings
from payments.stripe_gateway import StripeGateway, WebhookVerifier

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def stripe_gateway(settings: Settings) -> StripeGateway:
    return StripeGateway(
        settings.stripe_secret_key.get_secret_value(),
        settings.stripe_api_base,
        timeout=settings.payments_stripe_timeout,
        retries=settings.payments_stripe_retries,
    )


@contextlib.asynccontextmanager
async def open_deps(settings: Settings) -> AsyncIterator[Deps]:
    """Database (migrated), a broker connection for readiness, the Stripe client; closed on exit."""
    dsn = await prepare_database(settings.database_url, "payments", MIGRATIONS_DIR)
    pool = await create_pool(dsn)
    broker = await connect(settings.amqp_url, name="payments-api")
    gateway = stripe_gateway(settings)

    async def broker_ready() -> bool:
        return broker.connection.connected.is_set()

    try:
        yield Deps(
            settings=settings,
            store=PgStore(pool),
            stripe=gateway,
            verifier=WebhookVerifier(settings.webhook_secrets),
            broker_ready=broker_ready,
        )
    finally:
        await gateway.aclose()
        await broker.close()
        await pool.close()


def create_app(settings: Settings, deps: Deps | None = None) -> FastAPI:
    """The payments API; with `deps` (tests) nothing is opened, else the lifespan opens the real ones."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_deps(settings) as real:
            app.state.deps = real
            yield

    app = FastAPI(
        title="payments",
        description="Stripe Checkout sessions and the verified Stripe webhook",
        lifespan=None if deps else lifespan,
    )
    app.state.deps = deps
    for module in (checkout, webhook, health):
        app.include_router(module.router)
    return app
