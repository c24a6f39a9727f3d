"""Fixtures for the Stripe stand-in: a sim and a webhook receiver, each served on its own free port."""

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import stripe
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stripe_sim.settings import Settings
from stripe_sim.testing import RunningSim, in_thread, running_sim, serving

T = TypeVar("T")
SECRETS = ("whsec_test_current", "whsec_test_previous")
WEBHOOK_PATH = "/payment/webhook/"
# stripe v16's HTTPXClient posts with httpx's deprecated `data=<str>`; harmless, but warnings are errors here.
SDK_HTTPX_DATA_WARNING = "ignore:Use 'content=:DeprecationWarning"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event_id(self) -> str:
        return str(
            stripe.Webhook.construct_event(
                self.body.decode(), self.headers["stripe-signature"], SECRETS[0]
            ).id
        )


@dataclass
class Receiver:
    """A webhook endpoint that records every request and answers scripted statuses (then 200)."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.script.extend(statuses)

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            status = self.script.pop(0) if self.script else 200
            self.received.append(Received(dict(request.headers), body, status))
        return Response(status_code=status)


def sim_settings(webhook_url: str, **overrides: Any) -> Settings:
    """Fast timings for tests; no .env file, explicit values for everything that matters."""
    values: dict[str, Any] = {
        "stripe_sim_webhook_url": webhook_url,
        "stripe_webhook_secret": SecretStr(",".join(SECRETS)),
        "stripe_sim_chaos": False,
        "stripe_sim_chaos_max_delay": 0.3,
        "stripe_sim_retry_base": 0.05,
        "stripe_sim_retry_max": 0.2,
        "stripe_sim_max_attempts": 0,
        "stripe_sim_async_payment_delay": 0.1,
        "stripe_sim_expiry_interval": 0.05,
        "stripe_sim_min_expires_in": 1,
        "stripe_sim_webhook_events": "*",
        "stripe_sim_public_url": None,
    }
    return Settings(_env_file=None, **(values | overrides))


class Hub:
    """One shared HTTP server; each test's Receiver gets its own path under it."""

    def __init__(self) -> None:
        self.url = ""
        self.receivers: dict[str, Receiver] = {}

    async def handle(self, request: Request) -> Response:
        receiver = self.receivers.get(request.path_params["name"])
        return await receiver.handle(request) if receiver else Response(status_code=404)

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator["Hub"]:
        app = Starlette(routes=[Route("/hooks/{name}" + WEBHOOK_PATH, self.handle, methods=["POST"])])
        async with serving(app) as url:
            self.url = url
            yield self


@pytest.fixture(scope="session")
def hub() -> Iterator[Hub]:
    with in_thread(lambda: Hub().serve()) as served:
        yield served


@pytest.fixture
def receiver(hub: Hub) -> Iterator[Receiver]:
    name = uuid.uuid4().hex
    rec = Receiver(url=f"{hub.url}/hooks/{name}{WEBHOOK_PATH}")
    hub.receivers[name] = rec
    yield rec
    del hub.receivers[name]


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[RunningSim]:
    """A fresh stand-in in its own thread (so sync SDK calls from async tests cannot block it)."""
    with in_thread(lambda: running_sim(sim_settings(receiver.url))) as running:
        yield running


@pytest.fixture
def client(sim: RunningSim) -> stripe.StripeClient:
    """The official SDK with its default HTTP clients (requests for sync, httpx for async)."""
    return stripe.StripeClient(sim.api_key, base_addresses={"api": sim.base_url}, max_network_retries=0)


@pytest.fixture
async def aclient(sim: RunningSim) -> AsyncIterator[stripe.StripeClient]:
    """The official SDK on httpx, used through its `*_async` methods."""
    http = stripe.HTTPXClient()
    yield stripe.StripeClient(
        sim.api_key, base_addresses={"api": sim.base_url}, http_client=http, max_network_retries=0
    )
    await http.close_async()  # type: ignore[no-untyped-call]


async def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    """Poll `check` until it returns something truthy (bounded, no fixed sleeps in tests)."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last value {value!r})")
        await asyncio.sleep(0.02)


def session_params(**overrides: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "usd", "unit_amount": 1500, "product_data": {"name": "Blue mug"}},
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 499,
                    "product_data": {"name": "Tea sampler"},
                },
                "quantity": 1,
            },
        ],
        "client_reference_id": "order-123",
        "metadata": {"order_id": "order-123"},
        "customer_email": "ada@example.com",
        "success_url": "http://shop.test/payment/completed/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://shop.test/payment/canceled/",
    }
    return params | overrides
