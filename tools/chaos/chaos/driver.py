"""Chaos room: drive payments through the gateway and the Stripe stand-in, as customers would.

A customer orders, starts checkout and pays on the stand-in; a step that fails (the system is under a
fault) is retried for a while, as a customer retries. A payment counts once the stand-in confirmed it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)
RETRY_FOR = 60.0  # seconds a customer keeps retrying one step
TRANSIENT = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class Payment:
    order_id: str | None = None
    session_id: str | None = None
    confirmed_at: float | None = None  # wall clock: the stand-in answered the payment
    error: str | None = None  # why the customer gave up (never confirmed: not a lost payment)


class Driver:
    def __init__(self, gateway: str, stripe: str, run_id: str) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self.gateway = httpx.AsyncClient(base_url=gateway, timeout=15, limits=limits)
        self.stripe = httpx.AsyncClient(base_url=stripe, timeout=15, limits=limits)
        self.run_id = run_id
        self._product: str | None = None

    async def aclose(self) -> None:
        await self.gateway.aclose()
        await self.stripe.aclose()

    async def product(self) -> str:
        if self._product is None:
            response = await _retrying(lambda: self.gateway.get("/api/products"))
            self._product = str(response.json()[0]["id"])
        return self._product

    async def stream(self, count: int, rate: float, tag: str) -> list[Payment]:
        """`count` payments, one started every 1/`rate` seconds, each on its own."""
        tasks: list[asyncio.Task[Payment]] = []
        start = time.monotonic()
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(self.one(f"{tag}-{n}-{self.run_id}@chaos.example.com")))
        return list(await asyncio.gather(*tasks))

    async def one(self, email: str) -> Payment:
        payment = Payment()
        try:
            product = await self.product()
            body = {"email": email, "items": [{"product_id": product, "quantity": 1}]}
            order = await _retrying(lambda: self.gateway.post("/api/orders", json=body))
            payment.order_id = str(order.json()["id"])
            checkout = await _retrying(lambda: self.gateway.post(f"/api/orders/{payment.order_id}/checkout"))
            payment.session_id = str(checkout.json()["session_id"])
            pay = f"/_sim/checkout/sessions/{payment.session_id}/pay"
            await _retrying(lambda: self.stripe.post(pay, data={"outcome": "succeeded"}))
            payment.confirmed_at = time.time()
        except (httpx.HTTPError, GaveUp) as exc:
            payment.error = f"{type(exc).__name__}: {exc}"
        return payment

    async def order_status(self, order_id: str) -> str | None:
        try:
            response = await self.gateway.get(f"/api/orders/{order_id}")
        except httpx.HTTPError:
            return None
        return str(response.json()["status"]) if response.status_code == 200 else None


class GaveUp(Exception):
    """A step kept failing for RETRY_FOR seconds."""


async def _retrying(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    deadline = time.monotonic() + RETRY_FOR
    last = ""
    while time.monotonic() < deadline:
        try:
            response = await call()
            if response.status_code < 400:
                return response
            last = f"{response.status_code} {response.text[:200]}"
            if response.status_code not in TRANSIENT:
                raise GaveUp(last)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        await asyncio.sleep(0.5)
    raise GaveUp(last)


def run_id() -> str:
    return uuid.uuid4().hex[:8]
