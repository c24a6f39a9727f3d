"""Orders repository: every SQL statement on the orders service's tables, behind a Protocol."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from messaging import outbox
from messaging.db import Conn
from messaging.event import Envelope
from messaging.events.orders import OrderLine, OrderStatus
from messaging.inbox import PgClaims
from messaging.topology import Queue
from orders.domain import Order, ParkedReview, Product, Review, Session

LIST_PRODUCTS = """
SELECT id, name, description, price, currency, active FROM products WHERE active ORDER BY name"""
GET_PRODUCTS = (
    "SELECT id, name, description, price, currency, active FROM products WHERE id = ANY($1::text[])"
)
ADD_ORDER = """
WITH new_order AS (
    INSERT INTO orders (id, status, email, total, currency, created_at, payment_deadline)
    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
)
INSERT INTO order_lines (order_id, position, product_id, name, quantity, unit_price, line_total)
SELECT new_order.id, line.position - 1, line.product_id, line.name, line.quantity, line.unit_price,
    line.line_total
FROM new_order, unnest($8::text[], $9::text[], $10::integer[], $11::bigint[], $12::bigint[])
    WITH ORDINALITY AS line (product_id, name, quantity, unit_price, line_total, position)"""
GET_ORDER = """
SELECT id, status, email, total, currency, created_at, payment_deadline, paid_at, canceled_at, cancel_reason,
    refunded_amount, checkout_session_id, payment_intent_id, sessions, deadline_reached,
    refund_reversed_amount, refund_reversals,
    (SELECT json_agg(json_build_object('product_id', product_id, 'name', name, 'quantity', quantity,
        'unit_price', unit_price, 'line_total', line_total) ORDER BY position)
     FROM order_lines WHERE order_id = orders.id) AS lines
FROM orders WHERE id = $1"""
LOCK_ORDER = GET_ORDER + " FOR UPDATE OF orders"
SAVE_ORDER = """
UPDATE orders SET status = $2, paid_at = $3, canceled_at = $4, cancel_reason = $5, refunded_amount = $6,
    checkout_session_id = $7, payment_intent_id = $8, sessions = $9::jsonb, deadline_reached = $10,
    refund_reversed_amount = $11, refund_reversals = $12, updated_at = now()
WHERE id = $1"""

ADD_REVIEW = """
INSERT INTO payment_reviews (order_id, message_id, kind, reason, checkout_session_id, payment_intent_id,
    amount, currency, expected_amount, expected_currency)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (message_id) DO NOTHING"""
LIST_REVIEWS = """
SELECT id, message_id, kind, created_at, order_id, checkout_session_id AS session_id, payment_intent_id,
    amount, currency, expected_amount, expected_currency, reason
FROM payment_reviews WHERE ($1::uuid IS NULL OR order_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2"""


class Repository(Protocol):
    """The port handlers and routes use; PgRepository here, an in-memory one in the unit tests."""

    async def list_products(self) -> list[Product]: ...

    async def get_products(self, ids: Sequence[str]) -> dict[str, Product]: ...

    async def add_order(self, order: Order) -> None: ...

    async def get_order(self, order_id: UUID) -> Order | None: ...

    async def lock_order(self, order_id: UUID) -> Order | None:
        """The order, locked until the transaction ends: events for one order apply one at a time."""
        ...

    async def save_order(self, order: Order) -> None: ...

    async def add_review(self, review: Review, *, message_id: str, kind: str) -> None:
        """Park a payment that does not match its order, once per message."""
        ...

    async def list_reviews(self, order_id: UUID | None = None, limit: int = 100) -> list[ParkedReview]:
        """Newest first; of one order, or of all."""
        ...

    async def claim(self, consumer: str, message_id: str) -> bool:
        """The inbox's `Claims` port: handlers call `Inbox.accept(repo, msg)`, never this."""
        ...

    async def add_to_outbox(
        self, envelope: Envelope[Any], *, queue: Queue | None = None, delay: float = 0.0
    ) -> None: ...


def _product(row: asyncpg.Record) -> Product:
    return Product(**dict(row))


class PgRepository:
    """The caller owns the transaction; one statement per method."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def list_products(self) -> list[Product]:
        return [_product(row) for row in await self._conn.fetch(LIST_PRODUCTS)]

    async def get_products(self, ids: Sequence[str]) -> dict[str, Product]:
        rows = await self._conn.fetch(GET_PRODUCTS, list(ids))
        return {row["id"]: _product(row) for row in rows}

    async def add_order(self, order: Order) -> None:
        """The order and its lines, in one statement."""
        lines = order.lines
        await self._conn.execute(
            ADD_ORDER,
            order.id,
            order.status.value,
            order.email,
            order.total,
            order.currency,
            order.created_at,
            order.payment_deadline,
            [x.product_id for x in lines],
            [x.name for x in lines],
            [x.quantity for x in lines],
            [x.unit_price for x in lines],
            [x.line_total for x in lines],
        )

    async def get_order(self, order_id: UUID) -> Order | None:
        return await self._load(GET_ORDER, order_id)

    async def lock_order(self, order_id: UUID) -> Order | None:
        return await self._load(LOCK_ORDER, order_id)

    async def _load(self, query: str, order_id: UUID) -> Order | None:
        row = await self._conn.fetchrow(query, order_id)
        if row is None:
            return None
        fields = dict(row)
        lines = tuple(OrderLine(**line) for line in json.loads(fields.pop("lines") or "[]"))
        sessions = {k: Session(v) for k, v in json.loads(fields.pop("sessions")).items()}
        fields["status"] = OrderStatus(fields["status"])
        return Order(**fields, lines=lines, sessions=sessions)

    async def save_order(self, order: Order) -> None:
        await self._conn.execute(
            SAVE_ORDER,
            order.id,
            order.status.value,
            order.paid_at,
            order.canceled_at,
            order.cancel_reason,
            order.refunded_amount,
            order.checkout_session_id,
            order.payment_intent_id,
            json.dumps({k: v.value for k, v in order.sessions.items()}),
            order.deadline_reached,
            order.refund_reversed_amount,
            order.refund_reversals,
        )

    async def add_review(self, review: Review, *, message_id: str, kind: str) -> None:
        r = review
        await self._conn.execute(
            ADD_REVIEW, r.order_id, message_id, kind, r.reason, r.session_id, r.payment_intent_id,
            r.amount, r.currency, r.expected_amount, r.expected_currency,
        )  # fmt: skip

    async def list_reviews(self, order_id: UUID | None = None, limit: int = 100) -> list[ParkedReview]:
        rows = await self._conn.fetch(LIST_REVIEWS, order_id, limit)
        out = []
        for row in rows:
            fields = dict(row)
            head = {k: fields.pop(k) for k in ("id", "message_id", "kind", "created_at")}
            out.append(ParkedReview(**head, review=Review(**fields)))
        return out

    async def claim(self, consumer: str, message_id: str) -> bool:
        return await PgClaims(self._conn).claim(consumer, message_id)

    async def add_to_outbox(
        self, envelope: Envelope[Any], *, queue: Queue | None = None, delay: float = 0.0
    ) -> None:
        await outbox.add_to_outbox(self._conn, envelope, queue=queue, delay=delay)
