"""Fixtures for payments: its app served in-process, the Stripe stand-in, the relay, third-party queues."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
import stripe

from messaging.outbox import Relay
from payments.main import create_app, open_deps
from payments.repository import PgStore
from payments.services import run_refund_issuer
from stripe_sim.testing import bind_free_port, running_sim, serving
from tests.support.payments_live import (
    SERVICE_TOKEN,
    TEST_TOPOLOGY,
    Harness,
    orders_app,
    payments_settings,
    running,
    sim_settings,
    via_gateway,
)


@pytest_asyncio.fixture
async def harness(postgres, rabbit, prefix, make_broker) -> AsyncIterator[Harness]:
    sock = bind_free_port()
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    database_url = postgres.dsn(f"{postgres.prefix}_{uuid.uuid4().hex[:8]}")
    broker = await make_broker(TEST_TOPOLOGY, prefix)
    await broker.declare()
    sdk_http = stripe.HTTPXClient()
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(running_sim(sim_settings(f"{app_url}/webhook")))
        orders: dict[str, dict[str, Any]] = {}
        orders_url = await stack.enter_async_context(serving(orders_app(orders)))
        settings = payments_settings(database_url, rabbit.url, sim, orders_url)
        deps = await stack.enter_async_context(open_deps(settings))
        await stack.enter_async_context(serving(via_gateway(create_app(settings, deps)), sock))
        assert isinstance(deps.store, PgStore)
        relay = Relay(deps.store.pool, broker, poll_interval=0.2)
        issuer = run_refund_issuer(deps.store, deps.stripe, interval=0.1)
        await stack.enter_async_context(running(relay.run(), issuer))
        auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=app_url, timeout=20, headers=auth))
        sdk = stripe.StripeClient(
            sim.api_key, base_addresses={"api": sim.base_url}, http_client=sdk_http, max_network_retries=0
        )
        yield Harness(app_url, http, sim, sdk, deps.store.pool, broker, relay, orders, settings)
    await sdk_http.close_async()
