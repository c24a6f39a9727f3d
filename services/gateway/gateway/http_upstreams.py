"""gateway's Upstreams over internal HTTP: one pooled httpx client, failures mapped to 502/503/504."""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import time
from typing import TypeVar
from uuid import UUID

import httpx
from pydantic import JsonValue, TypeAdapter, ValidationError

from gateway.metrics import Metrics
from gateway.schemas import CheckoutSession, Order, OrderCreate, Product, SessionStatus
from gateway.settings import Settings
from gateway.upstreams import (
    BadUpstreamResponse,
    Check,
    Checkout,
    InvalidOrder,
    NotPayable,
    Reply,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from runtime import requests

T = TypeVar("T")
log = logging.getLogger(__name__)
_PRODUCTS = TypeAdapter(list[Product])
_ORDER = TypeAdapter(Order)
_CHECKOUT = TypeAdapter(CheckoutSession)
_SESSION = TypeAdapter(SessionStatus)
_JSON: TypeAdapter[JsonValue] = TypeAdapter(JsonValue)


def build_client(settings: Settings) -> httpx.AsyncClient:
    """The pooled client; retries=1 only repeats a failed connect, never a request that was sent."""
    limits = httpx.Limits(
        max_connections=settings.gateway_max_connections,
        max_keepalive_connections=settings.gateway_max_connections,
        keepalive_expiry=10.0,  # the services keep idle connections 30 s: we always let go first
    )
    timeout = httpx.Timeout(settings.gateway_upstream_timeout, connect=settings.gateway_connect_timeout)
    # trust_env=False: an HTTP(S)_PROXY meant for the outside world must not catch internal calls.
    transport = httpx.AsyncHTTPTransport(retries=1, limits=limits)
    # Every call presents the service credential; the internal APIs answer no one else.
    token = settings.token()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False, headers=headers)


class HttpUpstreams:
    """orders, payments and notifier at their base urls; the request id rides along (X-Request-ID)."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings, metrics: Metrics | None = None) -> None:
        self._client = client
        self._metrics = metrics
        self._ready_timeout = settings.gateway_ready_timeout
        self._base = {
            "orders": settings.orders_url,
            "payments": settings.payments_url,
            "notifier": settings.notifier_url,
        }

    async def list_products(self) -> list[Product]:
        response = await self._call("orders", "list_products", "GET", "/products")
        return self._expect(response, "orders", _PRODUCTS, 200)

    async def create_order(self, order: OrderCreate) -> Order:
        response = await self._call("orders", "create_order", "POST", "/orders", json=order.model_dump())
        if response.status_code == 422:
            raise InvalidOrder(_json_body("orders", response))
        return self._expect(response, "orders", _ORDER, 201, 200)

    async def get_order(self, order_id: UUID) -> Order | None:
        response = await self._call("orders", "get_order", "GET", f"/orders/{order_id}")
        if response.status_code == 404:
            return None
        return self._expect(response, "orders", _ORDER, 200)

    async def checkout(self, order_id: UUID) -> Checkout | None:
        # Only the id: payments reads the order's lines, amount and status from orders, their owner.
        response = await self._call(
            "payments", "create_checkout", "POST", "/checkout-sessions", json={"order_id": str(order_id)}
        )
        if response.status_code == 404:
            return None
        if response.status_code == 409:
            raise NotPayable(_json_body("payments", response))
        session = self._expect(response, "payments", _CHECKOUT, 201, 200)
        return Checkout(session=session, created=response.status_code == 201)

    async def get_session(self, session_id: str) -> SessionStatus | None:
        path = f"/checkout-sessions/{session_id}"  # the route only lets [A-Za-z0-9_] ids through
        response = await self._call("payments", "get_session", "GET", path)
        if response.status_code == 404:
            return None
        return self._expect(response, "payments", _SESSION, 200)

    async def forward_webhook(
        self, body: bytes, signature: bytes | None, content_type: bytes | None
    ) -> Reply:
        headers = {b"stripe-signature": signature} if signature is not None else {}
        if content_type is not None:
            headers[b"content-type"] = content_type
        response = await self._call("payments", "webhook", "POST", "/webhook", content=body, headers=headers)
        return Reply(response.status_code, response.content, response.headers.get("content-type"))

    async def readiness(self) -> dict[str, Check]:
        names = list(self._base)
        checks = await asyncio.gather(*(self._ready(name) for name in names))
        return dict(zip(names, checks, strict=True))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _ready(self, service: str) -> Check:
        try:
            response = await self._call(service, "readyz", "GET", "/readyz", within=self._ready_timeout)
        except UpstreamError as exc:
            return Check(ready=False, detail=exc.error)
        try:
            body: JsonValue = _JSON.validate_json(response.content)
        except ValidationError:
            body = response.text[:200]
        return Check(ready=response.status_code == 200, detail=body)

    async def _call(
        self,
        service: str,
        operation: str,
        method: str,
        path: str,
        *,
        json: JsonValue = None,
        content: bytes | None = None,
        headers: dict[bytes, bytes] | None = None,
        within: float | None = None,
    ) -> httpx.Response:
        rid = requests.request_id.get()
        ids = {
            requests.REQUEST_ID_HEADER.encode(): rid.encode(),
        }
        sent = ids | (headers or {})
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await self._client.request(
                method,
                self._base[service] + path,
                json=json,
                content=content,
                headers=sent,
                timeout=httpx.USE_CLIENT_DEFAULT if within is None else within,
            )
            outcome = str(response.status_code)
            return response
        except httpx.HTTPError as exc:
            error = _mapped(service, exc)
            outcome = error.error
            log.warning("%s %s failed: %s (request_id=%s)", service, operation, error.detail, rid)
            raise error from exc
        finally:
            if self._metrics is not None:
                self._metrics.observe_upstream(service, operation, outcome, time.perf_counter() - started)

    def _expect(self, response: httpx.Response, service: str, adapter: TypeAdapter[T], *ok: int) -> T:
        if response.status_code not in ok:
            raise BadUpstreamResponse(service, f"{service} answered {response.status_code}")
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            raise BadUpstreamResponse(service, f"{service} sent an unexpected body") from exc


def _mapped(service: str, exc: httpx.HTTPError) -> UpstreamError:
    # A connect that fails or times out, or no free pooled connection: the service is unreachable.
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return UpstreamUnavailable(service, f"{service} is unreachable")
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(service, f"{service} did not answer in time")
    return BadUpstreamResponse(service, f"{service} broke off the exchange ({type(exc).__name__})")


def _json_body(service: str, response: httpx.Response) -> JsonValue:
    """A passed-through 4xx body must at least be JSON."""
    try:
        body: JsonValue = jsonlib.loads(response.content)
    except ValueError as exc:
        raise BadUpstreamResponse(service, f"{service} sent a {response.status_code} without JSON") from exc
    return body
