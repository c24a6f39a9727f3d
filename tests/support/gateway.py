"""An in-memory Upstreams for the gateway's route tests (orders and payments in a few dicts), its settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import JsonValue

from gateway.schemas import CheckoutSession, Order, OrderCreate, OrderLine, Product, SessionStatus
from gateway.settings import Settings
from gateway.upstreams import SERVICES, Check, Checkout, InvalidOrder, NotPayable, Reply, UpstreamError
from messaging.events.orders import OrderStatus
from runtime import requests

BASE = "http://gateway.test"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def gateway_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[arg-type]


PRODUCTS = [
    Product(id="blue-mug", name="Blue mug", description="Stoneware, 350 ml", price=1500, currency="eur"),
    Product(id="tea", name="Tea sampler", description=None, price=499, currency="eur"),
]


@dataclass
class InMemoryUpstreams:
    products: list[Product] = field(default_factory=lambda: list(PRODUCTS))
    orders: dict[UUID, Order] = field(default_factory=dict)
    sessions: dict[str, SessionStatus] = field(default_factory=dict)
    open_sessions: dict[UUID, CheckoutSession] = field(default_factory=dict)
    webhooks: list[tuple[bytes, bytes | None, bytes | None]] = field(default_factory=list)
    webhook_reply: Reply = field(default_factory=lambda: Reply(200, b'{"received":true}', "application/json"))
    ready: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(SERVICES, True))
    failure: UpstreamError | None = None  # raised by every call while set
    request_ids: list[str] = field(default_factory=list)  # the request id each call saw
    closed: bool = False

    def _enter(self) -> None:
        self.request_ids.append(requests.request_id.get())
        if self.failure is not None:
            raise self.failure

    async def list_products(self) -> list[Product]:
        self._enter()
        return list(self.products)

    async def create_order(self, order: OrderCreate) -> Order:
        self._enter()
        prices = {p.id: p for p in self.products}
        errors: list[JsonValue] = [
            {"loc": ["body", "items", i, "product_id"], "msg": "Unknown product", "type": "value_error"}
            for i, item in enumerate(order.items)
            if item.product_id not in prices
        ]
        if errors:
            raise InvalidOrder({"detail": errors})
        lines = [
            OrderLine(
                product_id=item.product_id,
                name=prices[item.product_id].name,
                quantity=item.quantity,
                unit_price=prices[item.product_id].price,
                line_total=prices[item.product_id].price * item.quantity,
            )
            for item in order.items
        ]
        return self.add_order(order.email, lines)

    def add_order(
        self, email: str, lines: list[OrderLine], status: str = "pending", **extra: object
    ) -> Order:
        now = datetime.now(UTC)
        order = Order.model_validate(
            {
                "id": uuid.uuid4(),
                "status": status,
                "email": email,
                "items": lines,
                "total": sum(line.line_total for line in lines),
                "currency": "eur",
                "created_at": now,
                "payment_deadline": now + timedelta(hours=1),
            }
            | extra
        )
        self.orders[order.id] = order
        return order

    def set_status(self, order_id: UUID, status: str) -> None:
        paid_at = datetime.now(UTC) if status == "paid" else None
        self.orders[order_id] = self.orders[order_id].model_copy(
            update={"status": OrderStatus(status), "paid_at": paid_at}
        )

    async def get_order(self, order_id: UUID) -> Order | None:
        self._enter()
        return self.orders.get(order_id)

    async def checkout(self, order_id: UUID) -> Checkout | None:
        self._enter()
        order = self.orders.get(order_id)
        if order is None:
            return None
        if order.status not in ("pending", "payment_failed"):
            raise NotPayable({"detail": f"order is {order.status}"})
        if (session := self.open_sessions.get(order_id)) is not None:
            return Checkout(session=session, created=False)
        session_id = f"cs_test_{uuid.uuid4().hex}"
        session = CheckoutSession(session_id=session_id, checkout_url=f"https://stripe.test/pay/{session_id}")
        self.open_sessions[order_id] = session
        self.sessions[session_id] = SessionStatus(
            session_id=session_id, order_id=order_id, status="open", payment_status="unpaid"
        )
        return Checkout(session=session, created=True)

    async def get_session(self, session_id: str) -> SessionStatus | None:
        self._enter()
        return self.sessions.get(session_id)

    async def forward_webhook(
        self, body: bytes, signature: bytes | None, content_type: bytes | None
    ) -> Reply:
        self._enter()
        self.webhooks.append((body, signature, content_type))
        return self.webhook_reply

    async def readiness(self) -> dict[str, Check]:
        self._enter()
        return {
            name: Check(ready=ok, detail={"status": "ok"} if ok else "database down")
            for name, ok in self.ready.items()
        }

    async def aclose(self) -> None:
        self.closed = True
