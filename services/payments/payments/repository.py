"""payments repository: every SQL statement on the payments tables, and the outbox write."""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from messaging.db import Conn
from messaging.event import Envelope
from messaging.outbox import add_to_outbox
from payments.domain import Mismatch, Outcome, Refund, RefundStatus, Session, SessionStatus, StripeEvent

_COLUMNS = """order_id, attempt, idempotency_key, request, amount, currency, expires_at, status, session_id,
url, payment_status, payment_intent_id, outcome, succeeded_event_id, refunded_amount, duplicate_of,
reversed_amount"""
LATEST_SESSION = f"SELECT {_COLUMNS} FROM checkout_sessions WHERE order_id = $1 ORDER BY attempt DESC LIMIT 1"
GET_SESSION = f"SELECT {_COLUMNS} FROM checkout_sessions WHERE session_id = $1"
LOCK_SESSION = f"SELECT {_COLUMNS} FROM checkout_sessions WHERE session_id = $1 FOR UPDATE"
SESSION_BY_PAYMENT_INTENT = f"SELECT {_COLUMNS} FROM checkout_sessions WHERE payment_intent_id = $1"
# Every session of the order the given session belongs to, locked in one order (by attempt): webhooks
# for two sessions of one order apply one after the other, so only one of them can pay it.
LOCK_ORDER_SESSIONS = f"""
SELECT {_COLUMNS} FROM checkout_sessions
WHERE order_id = (SELECT order_id FROM checkout_sessions WHERE session_id = $1)
ORDER BY attempt FOR UPDATE"""
INSERT_SESSION = """
INSERT INTO checkout_sessions (order_id, attempt, idempotency_key, request, amount, currency, expires_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)"""
MARK_CREATED = """
UPDATE checkout_sessions SET status = 'open', session_id = $3, url = $4, updated_at = now()
WHERE order_id = $1 AND attempt = $2 AND status = 'creating'"""
MARK_FAILED = """
UPDATE checkout_sessions SET status = 'failed', updated_at = now()
WHERE order_id = $1 AND attempt = $2 AND status = 'creating'"""
SAVE_SESSION = """
UPDATE checkout_sessions SET status = $3, payment_status = $4, payment_intent_id = $5, outcome = $6,
    succeeded_event_id = $7, refunded_amount = $8, duplicate_of = $9, reversed_amount = $10,
    updated_at = now()
WHERE order_id = $1 AND attempt = $2"""
_REFUND_COLUMNS = """order_id, checkout_session_id, payment_intent_id, amount, currency, reason, status,
stripe_refund_id, idempotency_key, failure_reason, decided_by, id"""
SESSION_REFUNDS = f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE checkout_session_id = $1 ORDER BY id"
ADD_REFUND = """
INSERT INTO refunds (order_id, checkout_session_id, payment_intent_id, amount, currency, reason, status,
    stripe_refund_id, idempotency_key, failure_reason, decided_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"""
SAVE_REFUND = """
UPDATE refunds SET status = $2, stripe_refund_id = $3, failure_reason = $4, updated_at = now()
WHERE id = $1"""
DUE_REFUNDS = f"""
SELECT {_REFUND_COLUMNS} FROM refunds WHERE status = 'to_issue' AND next_attempt_at <= now()
ORDER BY next_attempt_at LIMIT $1"""
REFUND_ATTEMPT = """
UPDATE refunds SET attempts = attempts + 1, last_error = $2, status = $3,
    next_attempt_at = now() + make_interval(secs => least($4::float8, power(2, attempts + 1))),
    updated_at = now()
WHERE id = $1 AND status = 'to_issue'
RETURNING attempts"""
ADD_EVENT = """
INSERT INTO stripe_events (id, type, livemode, created, body) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING"""
NOTE_EVENT = "UPDATE stripe_events SET note = $2 WHERE id = $1"
ADD_REVIEW = """
INSERT INTO payment_reviews (stripe_event_id, event_type, checkout_session_id, order_id, expected_amount,
    expected_currency, received_amount, received_currency)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""
KNOWN_EVENTS = "SELECT id FROM stripe_events WHERE id = ANY($1::text[])"
RECONCILE_CHECKPOINT = "SELECT covered_until FROM stripe_reconciliation"
SAVE_RECONCILE_CHECKPOINT = """
INSERT INTO stripe_reconciliation (id, covered_until, completed_at, listed, repaired)
VALUES (true, $1, now(), $2, $3)
ON CONFLICT (id) DO UPDATE SET covered_until = GREATEST(stripe_reconciliation.covered_until, $1),
    completed_at = now(), listed = $2, repaired = $3"""
LOCK_ORDER = "SELECT pg_advisory_lock(hashtextextended($1::text, 7))"
UNLOCK_ORDER = "SELECT pg_advisory_unlock(hashtextextended($1::text, 7))"
PING = "SELECT 1"


class Repository(Protocol):
    """The payments tables inside one transaction the caller owns."""

    async def latest_session(self, order_id: UUID) -> Session | None: ...
    async def get_session(self, session_id: str) -> Session | None: ...
    async def lock_session(self, session_id: str) -> Session | None: ...
    async def session_by_payment_intent(self, payment_intent_id: str) -> Session | None: ...
    async def insert_session(self, session: Session) -> None: ...
    async def mark_created(self, session: Session, session_id: str, url: str | None) -> None: ...
    async def mark_failed(self, session: Session) -> None: ...
    async def save_session(self, session: Session) -> None: ...
    async def add_event(self, event: StripeEvent, body: bytes) -> bool: ...
    async def note_event(self, event_id: str, note: str) -> None: ...
    async def add_review(self, event: StripeEvent, session: Session, mismatch: Mismatch) -> None: ...
    async def add_to_outbox(self, envelope: Envelope[Any]) -> None: ...
    async def lock_order_sessions(self, session_id: str) -> list[Session]: ...
    async def session_refunds(self, session_id: str) -> list[Refund]: ...
    async def save_refund(self, refund: Refund) -> None: ...
    async def due_refunds(self, limit: int) -> list[Refund]: ...
    async def refund_attempt(self, refund: Refund, error: str, *, refused: bool, max_wait: float) -> int: ...
    async def known_events(self, event_ids: list[str]) -> set[str]: ...
    async def reconcile_checkpoint(self) -> datetime | None: ...
    async def save_reconcile_checkpoint(
        self, covered_until: datetime, listed: int, repaired: int
    ) -> None: ...


def _refund(row: asyncpg.Record) -> Refund:
    values = dict(row)
    values["status"] = RefundStatus(values["status"])
    return Refund(**values)


def _session(row: asyncpg.Record | None) -> Session | None:
    if row is None:
        return None
    values = dict(row)
    values["request"] = json.loads(values["request"])
    values["status"] = SessionStatus(values["status"])
    values["outcome"] = Outcome(values["outcome"]) if values["outcome"] else None
    return Session(**values)


class PgRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def latest_session(self, order_id: UUID) -> Session | None:
        return _session(await self._conn.fetchrow(LATEST_SESSION, order_id))

    async def get_session(self, session_id: str) -> Session | None:
        return _session(await self._conn.fetchrow(GET_SESSION, session_id))

    async def lock_session(self, session_id: str) -> Session | None:
        return _session(await self._conn.fetchrow(LOCK_SESSION, session_id))

    async def session_by_payment_intent(self, payment_intent_id: str) -> Session | None:
        """Not locked: the caller then locks the order's sessions in their one order (no deadlock)."""
        return _session(await self._conn.fetchrow(SESSION_BY_PAYMENT_INTENT, payment_intent_id))

    async def insert_session(self, session: Session) -> None:
        s = session
        await self._conn.execute(
            INSERT_SESSION,
            s.order_id,
            s.attempt,
            s.idempotency_key,
            json.dumps(s.request),
            s.amount,
            s.currency,
            s.expires_at,
        )

    async def mark_created(self, session: Session, session_id: str, url: str | None) -> None:
        await self._conn.execute(MARK_CREATED, session.order_id, session.attempt, session_id, url)

    async def mark_failed(self, session: Session) -> None:
        await self._conn.execute(MARK_FAILED, session.order_id, session.attempt)

    async def save_session(self, session: Session) -> None:
        s = session
        await self._conn.execute(
            SAVE_SESSION,
            s.order_id,
            s.attempt,
            s.status.value,
            s.payment_status,
            s.payment_intent_id,
            s.outcome.value if s.outcome else None,
            s.succeeded_event_id,
            s.refunded_amount,
            s.duplicate_of,
            s.reversed_amount,
        )

    async def add_event(self, event: StripeEvent, body: bytes) -> bool:
        """False when Stripe's event id was stored before (a redelivery)."""
        created = datetime.fromtimestamp(event.created, UTC) if event.created is not None else None
        status: str = await self._conn.execute(ADD_EVENT, event.id, event.type, event.livemode, created, body)
        return status == "INSERT 0 1"

    async def note_event(self, event_id: str, note: str) -> None:
        await self._conn.execute(NOTE_EVENT, event_id, note)

    async def add_review(self, event: StripeEvent, session: Session, mismatch: Mismatch) -> None:
        await self._conn.execute(
            ADD_REVIEW,
            event.id,
            event.type,
            session.session_id,
            session.order_id,
            mismatch.expected_amount,
            mismatch.expected_currency,
            mismatch.received_amount,
            mismatch.received_currency,
        )

    async def add_to_outbox(self, envelope: Envelope[Any]) -> None:
        await add_to_outbox(self._conn, envelope)

    async def lock_order_sessions(self, session_id: str) -> list[Session]:
        rows = await self._conn.fetch(LOCK_ORDER_SESSIONS, session_id)
        return [s for s in (_session(row) for row in rows) if s is not None]

    async def session_refunds(self, session_id: str) -> list[Refund]:
        return [_refund(row) for row in await self._conn.fetch(SESSION_REFUNDS, session_id)]

    async def save_refund(self, refund: Refund) -> None:
        r = refund
        if r.id is not None:
            await self._conn.execute(SAVE_REFUND, r.id, r.status.value, r.stripe_refund_id, r.failure_reason)
            return
        await self._conn.execute(
            ADD_REFUND,
            r.order_id,
            r.checkout_session_id,
            r.payment_intent_id,
            r.amount,
            r.currency,
            r.reason,
            r.status.value,
            r.stripe_refund_id,
            r.idempotency_key,
            r.failure_reason,
            r.decided_by,
        )

    async def due_refunds(self, limit: int) -> list[Refund]:
        return [_refund(row) for row in await self._conn.fetch(DUE_REFUNDS, limit)]

    async def refund_attempt(self, refund: Refund, error: str, *, refused: bool, max_wait: float) -> int:
        """A call to Stripe that created nothing: retried after 2, 4, 8 ... seconds (at most `max_wait`),
        or refused for good. Returns the attempts so far."""
        status = RefundStatus.REFUSED if refused else RefundStatus.TO_ISSUE
        attempts = await self._conn.fetchval(REFUND_ATTEMPT, refund.id, error, status.value, max_wait)
        return int(attempts or 0)

    async def known_events(self, event_ids: list[str]) -> set[str]:
        """Which of these Stripe event ids are stored already."""
        return {row["id"] for row in await self._conn.fetch(KNOWN_EVENTS, event_ids)}

    async def reconcile_checkpoint(self) -> datetime | None:
        """Every Stripe event created before this was listed by a sweep and stored; None before the first."""
        value: datetime | None = await self._conn.fetchval(RECONCILE_CHECKPOINT)
        return value

    async def save_reconcile_checkpoint(self, covered_until: datetime, listed: int, repaired: int) -> None:
        """Move the checkpoint forward (never back: sweeps may finish out of order)."""
        await self._conn.execute(SAVE_RECONCILE_CHECKPOINT, covered_until, listed, repaired)


_LOCK_CONN: contextvars.ContextVar[Conn | None] = contextvars.ContextVar("payments_lock_conn", default=None)


class PgStore:
    """Transactions on a pool; the order lock is a session advisory lock on its own connection."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        held = _LOCK_CONN.get()
        if held is not None:  # inside order_lock: use its connection, never wait for a second one
            async with held.transaction():
                yield PgRepository(held)
            return
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgRepository(conn)

    @contextlib.asynccontextmanager
    async def order_lock(self, order_id: UUID) -> AsyncIterator[None]:
        """Serialises checkouts of one order across processes; released if the process dies.

        Transactions opened inside run on the lock's own connection: holding one connection while
        waiting for another would deadlock the pool under as many concurrent checkouts as it has.
        """
        async with self.pool.acquire() as conn:
            await conn.execute(LOCK_ORDER, str(order_id))
            token = _LOCK_CONN.set(conn)
            try:
                yield
            finally:
                _LOCK_CONN.reset(token)
                await conn.execute(UNLOCK_ORDER, str(order_id))

    async def ping(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.fetchval(PING)
