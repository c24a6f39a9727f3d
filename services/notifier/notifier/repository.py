"""notifier: every SQL statement on the notifier's own tables (orders it knows, e-mails it sent)."""

from __future__ import annotations

import json
from typing import Protocol
from uuid import UUID

import asyncpg

from messaging.db import Conn
from messaging.events.orders import OrderLine, OrderStatus
from messaging.inbox import PgClaims
from notifier.domain import EmailState, InvoiceNumber, Mail, Order

# The first order event stores the order; a later one fills in lines an older producer did not send.
SAVE_ORDER = """
INSERT INTO orders (order_id, email, lines, total, currency, status, payment_deadline, created_at,
    refund_reversals)
VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)
ON CONFLICT (order_id) DO UPDATE SET lines = EXCLUDED.lines
WHERE orders.lines = '[]'::jsonb AND EXCLUDED.lines <> '[]'::jsonb"""
GET_ORDER = """
SELECT order_id, email, lines, total, currency, status, payment_deadline, created_at, refund_reversals
FROM orders WHERE order_id = $1"""
LOCK_ORDER = GET_ORDER + " FOR UPDATE"
SET_STATUS = "UPDATE orders SET status = $2, refund_reversals = $3 WHERE order_id = $1"
RECORD_INTENT = """
INSERT INTO emails (order_id, kind, message_id, recipient, subject, cause_id, correlation_id, state,
    invoice_series, invoice_seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (order_id, kind) DO NOTHING"""
# The series' next number, counted up under the counter row's lock (held until the caller commits).
NEXT_INVOICE_NUMBER = """
INSERT INTO invoice_counter AS c (series, next) VALUES ($1, 2)
ON CONFLICT (series) DO UPDATE SET next = c.next + 1
RETURNING next - 1"""
INVOICE_NUMBER = "SELECT invoice_series, invoice_seq FROM emails WHERE order_id = $1 AND kind = $2"
SET_INVOICE_NUMBER = """
UPDATE emails SET invoice_series = $3, invoice_seq = $4
WHERE order_id = $1 AND kind = $2 AND invoice_seq IS NULL"""
EMAIL_STATE = "SELECT state FROM emails WHERE order_id = $1 AND kind = $2"
# Serialises the intents to one address (count, then insert) until the transaction ends.
LOCK_ADDRESS = "SELECT pg_advisory_xact_lock(hashtextextended(lower($1), 13))"
COUNT_RECENT = """
SELECT count(*) FROM emails
WHERE lower(recipient) = lower($1) AND split_part(kind, '.', 1) = $2 AND state IN ('intended', 'sent')
    AND created_at > now() - make_interval(secs => $3)"""
LOCK_EMAIL = "SELECT state FROM emails WHERE order_id = $1 AND kind = $2 FOR UPDATE"
TAKE_LEASE = """
UPDATE emails SET sending_until = now() + make_interval(secs => $3)
WHERE order_id = $1 AND kind = $2 AND state IN ('intended', 'failed')
  AND (sending_until IS NULL OR sending_until <= now())
RETURNING true"""
MARK_SENT = """
UPDATE emails SET state = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL,
  sending_until = NULL
WHERE order_id = $1 AND kind = $2"""
RECORD_FAILURE = """
UPDATE emails SET state = $3, attempts = attempts + 1, last_error = $4, sending_until = NULL
WHERE order_id = $1 AND kind = $2"""
COUNT_EMAILS = "SELECT state, count(*) AS n FROM emails GROUP BY state"


class Repository(Protocol):
    """The notifier's storage port; PgRepository is the real one, tests use an in-memory one."""

    async def claim(self, consumer: str, message_id: str) -> bool: ...

    async def save_order(self, order: Order) -> None: ...

    async def get_order(self, order_id: UUID) -> Order | None: ...

    async def lock_order(self, order_id: UUID) -> Order | None:
        """The order, locked until the transaction ends: its events apply one at a time."""
        ...

    async def set_status(self, order_id: UUID, status: OrderStatus, refund_reversals: int) -> None: ...

    async def record_intent(
        self, mail: Mail, cause_id: str, correlation_id: str, state: EmailState = EmailState.INTENDED
    ) -> None: ...

    async def email_state(self, order_id: UUID, kind: str) -> EmailState | None: ...

    async def next_invoice_number(self, series: str) -> InvoiceNumber:
        """The series' next number, taken for good when the transaction commits (given back if not)."""
        ...

    async def invoice_number(self, order_id: UUID, kind: str) -> InvoiceNumber | None: ...

    async def set_invoice_number(self, order_id: UUID, kind: str, number: InvoiceNumber) -> None:
        """Number an e-mail recorded without one (a receipt intended before invoice numbers)."""
        ...

    async def lock_address(self, recipient: str) -> None: ...

    async def count_recent(self, recipient: str, template: str, seconds: float) -> int:
        """E-mails of a template to an address (any case) intended or sent in the last `seconds`."""
        ...

    async def lock_email(self, order_id: UUID, kind: str) -> EmailState | None: ...

    async def take_lease(self, order_id: UUID, kind: str, seconds: float) -> bool: ...

    async def mark_sent(self, order_id: UUID, kind: str) -> None: ...

    async def record_failure(self, order_id: UUID, kind: str, state: EmailState, error: str) -> None: ...

    async def count_emails(self) -> dict[str, int]: ...


class PgRepository:
    """One connection; the caller owns the transaction."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def claim(self, consumer: str, message_id: str) -> bool:
        return await PgClaims(self._conn).claim(consumer, message_id)

    async def save_order(self, order: Order) -> None:
        lines = json.dumps([line.model_dump() for line in order.lines])
        await self._conn.execute(
            SAVE_ORDER,
            order.id,
            order.email,
            lines,
            order.total,
            order.currency,
            order.status.value,
            order.payment_deadline,
            order.created_at,
            order.refund_reversals,
        )

    async def get_order(self, order_id: UUID) -> Order | None:
        row = await self._conn.fetchrow(GET_ORDER, order_id)
        return _order(row) if row is not None else None

    async def lock_order(self, order_id: UUID) -> Order | None:
        row = await self._conn.fetchrow(LOCK_ORDER, order_id)
        return _order(row) if row is not None else None

    async def set_status(self, order_id: UUID, status: OrderStatus, refund_reversals: int) -> None:
        await self._conn.execute(SET_STATUS, order_id, status.value, refund_reversals)

    async def record_intent(
        self, mail: Mail, cause_id: str, correlation_id: str, state: EmailState = EmailState.INTENDED
    ) -> None:
        args = (mail.order.id, mail.kind, mail.message_id, mail.recipient, mail.subject)
        invoice = (mail.invoice.series, mail.invoice.seq) if mail.invoice is not None else (None, None)
        await self._conn.execute(RECORD_INTENT, *args, cause_id, correlation_id, state.value, *invoice)

    async def email_state(self, order_id: UUID, kind: str) -> EmailState | None:
        state = await self._conn.fetchval(EMAIL_STATE, order_id, kind)
        return EmailState(state) if state is not None else None

    async def next_invoice_number(self, series: str) -> InvoiceNumber:
        return InvoiceNumber(series, int(await self._conn.fetchval(NEXT_INVOICE_NUMBER, series)))

    async def invoice_number(self, order_id: UUID, kind: str) -> InvoiceNumber | None:
        row = await self._conn.fetchrow(INVOICE_NUMBER, order_id, kind)
        if row is None or row["invoice_seq"] is None:
            return None
        return InvoiceNumber(row["invoice_series"], row["invoice_seq"])

    async def set_invoice_number(self, order_id: UUID, kind: str, number: InvoiceNumber) -> None:
        await self._conn.execute(SET_INVOICE_NUMBER, order_id, kind, number.series, number.seq)

    async def lock_address(self, recipient: str) -> None:
        await self._conn.execute(LOCK_ADDRESS, recipient)

    async def count_recent(self, recipient: str, template: str, seconds: float) -> int:
        return int(await self._conn.fetchval(COUNT_RECENT, recipient, template, seconds))

    async def lock_email(self, order_id: UUID, kind: str) -> EmailState | None:
        state = await self._conn.fetchval(LOCK_EMAIL, order_id, kind)
        return EmailState(state) if state is not None else None

    async def take_lease(self, order_id: UUID, kind: str, seconds: float) -> bool:
        """The right to send it for `seconds`, unless it is sent, held, or another delivery has it."""
        return bool(await self._conn.fetchval(TAKE_LEASE, order_id, kind, seconds))

    async def mark_sent(self, order_id: UUID, kind: str) -> None:
        await self._conn.execute(MARK_SENT, order_id, kind)

    async def record_failure(self, order_id: UUID, kind: str, state: EmailState, error: str) -> None:
        await self._conn.execute(RECORD_FAILURE, order_id, kind, state.value, error[:1000])

    async def count_emails(self) -> dict[str, int]:
        return {row["state"]: row["n"] for row in await self._conn.fetch(COUNT_EMAILS)}


def _order(row: asyncpg.Record) -> Order:
    return Order(
        id=row["order_id"],
        email=row["email"],
        lines=tuple(OrderLine(**line) for line in json.loads(row["lines"])),
        total=row["total"],
        currency=row["currency"],
        status=OrderStatus(row["status"]),
        created_at=row["created_at"],
        payment_deadline=row["payment_deadline"],
        refund_reversals=row["refund_reversals"],
    )
