"""gateway's port to the services: the Upstreams Protocol, its results and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from pydantic import JsonValue

from gateway.schemas import CheckoutSession, Order, OrderCreate, Product, SessionStatus

SERVICES = ("orders", "payments", "notifier")


class UpstreamError(Exception):
    """A service failed us; the gateway answers `status` with a JSON error body."""

    status = 502
    error = "bad_upstream_response"

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail


class BadUpstreamResponse(UpstreamError):
    status = 502
    error = "bad_upstream_response"


class UpstreamUnavailable(UpstreamError):
    status = 503
    error = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    error = "upstream_timeout"


class Rejected(Exception):
    """A 4xx the contract names; the JSON API passes `status` and `body` through unchanged."""

    def __init__(self, status: int, body: JsonValue) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body

    @property
    def detail(self) -> str:
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        return detail if isinstance(detail, str) else ""


class InvalidOrder(Rejected):
    """orders answered 422: the body carries its per-field messages."""

    def __init__(self, body: JsonValue) -> None:
        super().__init__(422, body)


class NotPayable(Rejected):
    """payments answered 409: the order is not pending/payment_failed, or its deadline passed."""

    def __init__(self, body: JsonValue) -> None:
        super().__init__(409, body)


@dataclass(frozen=True)
class Checkout:
    session: CheckoutSession
    created: bool  # False: payments returned the session still open for this order


@dataclass(frozen=True)
class Reply:
    """An upstream answer passed back as is (the webhook)."""

    status: int
    body: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Check:
    ready: bool
    detail: JsonValue = field(default=None)


class Upstreams(Protocol):
    async def list_products(self) -> list[Product]: ...

    async def create_order(self, order: OrderCreate) -> Order:
        """Raises InvalidOrder on orders' 422."""
        ...

    async def get_order(self, order_id: UUID) -> Order | None: ...

    async def checkout(self, order_id: UUID) -> Checkout | None:
        """POST the order id to payments (it reads the order from orders); None if unknown; NotPayable."""
        ...

    async def get_session(self, session_id: str) -> SessionStatus | None: ...

    async def forward_webhook(
        self, body: bytes, signature: bytes | None, content_type: bytes | None
    ) -> Reply: ...

    async def readiness(self) -> dict[str, Check]:
        """Each service's /readyz, by service name."""
        ...

    async def aclose(self) -> None: ...
