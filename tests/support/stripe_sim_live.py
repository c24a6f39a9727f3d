"""The Stripe stand-in's tests: sim settings, a webhook receiver hub, Checkout Session parameters."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import stripe
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stripe_sim.settings import Settings
from stripe_sim.testing import serving

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
    async def serve(self) -> AsyncIterator[Hub]:
        app = Starlette(routes=[Route("/hooks/{name}" + WEBHOOK_PATH, self.handle, methods=["POST"])])
        async with serving(app) as url:
            self.url = url
            yield self


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
