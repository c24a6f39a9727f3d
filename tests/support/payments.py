"""In-memory fakes of payments' own ports: the store (repository + lock) and the Stripe API."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import SecretStr

from messaging.event import Envelope
from payments.deps import Deps
from payments.domain import (
    Mismatch,
    Order,
    PaymentFacts,
    Refund,
    RefundSeen,
    RefundStatus,
    Session,
    SessionStatus,
    StripeEvent,
)
from payments.orders_client import OrdersUnavailable
from payments.settings import Settings
from payments.stripe_gateway import CreatedSession, RemoteSession, StripeRefused, WebhookVerifier

SECRET = "whsec_unit"
SERVICE_TOKEN = "payments-unit-token"


@dataclass
class State:
    sessions: dict[tuple[UUID, int], Session] = field(default_factory=dict)
    events: dict[str, bytes] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    reviews: list[tuple[str, Mismatch]] = field(default_factory=list)
    outbox: list[Envelope[Any]] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    refund_errors: list[str] = field(default_factory=list)
    checkpoint: datetime | None = None


class InMemoryRepository:
    def __init__(self, state: State) -> None:
        self.s = state

    def _by(self, **match: Any) -> Session | None:
        return next(
            (x for x in self.s.sessions.values() if all(getattr(x, k) == v for k, v in match.items())), None
        )

    async def latest_session(self, order_id: UUID) -> Session | None:
        mine = [x for x in self.s.sessions.values() if x.order_id == order_id]
        return max(mine, key=lambda x: x.attempt, default=None)

    async def get_session(self, session_id: str) -> Session | None:
        return self._by(session_id=session_id)

    lock_session = get_session

    async def session_by_payment_intent(self, payment_intent_id: str) -> Session | None:
        return self._by(payment_intent_id=payment_intent_id)

    async def lock_order_sessions(self, session_id: str) -> list[Session]:
        one = self._by(session_id=session_id)
        if one is None:
            return []
        return sorted(
            (x for x in self.s.sessions.values() if x.order_id == one.order_id), key=lambda x: x.attempt
        )

    async def session_refunds(self, session_id: str) -> list[Refund]:
        return [r for r in self.s.refunds if r.checkout_session_id == session_id]

    async def save_refund(self, refund: Refund) -> None:
        if refund.id is None:
            self.s.refunds.append(replace(refund, id=len(self.s.refunds) + 1))
            return
        self.s.refunds = [refund if r.id == refund.id else r for r in self.s.refunds]

    async def due_refunds(self, limit: int) -> list[Refund]:
        return [r for r in self.s.refunds if r.status is RefundStatus.TO_ISSUE][:limit]

    async def refund_attempt(self, refund: Refund, error: str, *, refused: bool, max_wait: float) -> int:
        self.s.refund_errors.append(error)
        if refused:
            await self.save_refund(replace(refund, status=RefundStatus.REFUSED))
        return len(self.s.refund_errors)

    async def insert_session(self, session: Session) -> None:
        assert (session.order_id, session.attempt) not in self.s.sessions
        self.s.sessions[(session.order_id, session.attempt)] = session

    async def mark_created(self, session: Session, session_id: str, url: str | None) -> None:
        key = (session.order_id, session.attempt)
        self.s.sessions[key] = replace(
            self.s.sessions[key], status=SessionStatus.OPEN, session_id=session_id, url=url
        )

    async def mark_failed(self, session: Session) -> None:
        key = (session.order_id, session.attempt)
        self.s.sessions[key] = replace(self.s.sessions[key], status=SessionStatus.FAILED)

    async def save_session(self, session: Session) -> None:
        self.s.sessions[(session.order_id, session.attempt)] = session

    async def add_event(self, event: StripeEvent, body: bytes) -> bool:
        if event.id in self.s.events:
            return False
        self.s.events[event.id] = body
        return True

    async def note_event(self, event_id: str, note: str) -> None:
        self.s.notes[event_id] = note

    async def add_review(self, event: StripeEvent, session: Session, mismatch: Mismatch) -> None:
        self.s.reviews.append((event.id, mismatch))

    async def add_to_outbox(self, envelope: Envelope[Any]) -> None:
        self.s.outbox.append(envelope)

    async def known_events(self, event_ids: list[str]) -> set[str]:
        return {i for i in event_ids if i in self.s.events}

    async def reconcile_checkpoint(self) -> datetime | None:
        return self.s.checkpoint

    async def save_reconcile_checkpoint(self, covered_until: datetime, listed: int, repaired: int) -> None:
        self.s.checkpoint = max(covered_until, self.s.checkpoint or covered_until)


class InMemoryStore:
    """A transaction works on a copy and commits it on success (rollback on error), one at a time."""

    def __init__(self) -> None:
        self.state = State()
        self._tx = asyncio.Lock()
        self._orders: dict[UUID, asyncio.Lock] = {}
        self.down = False
        self.fail_next: list[BaseException] = []  # raised by the next transactions, one each

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[InMemoryRepository]:
        if self.fail_next:
            raise self.fail_next.pop(0)
        async with self._tx:
            work = copy.deepcopy(self.state)
            yield InMemoryRepository(work)
            self.state = work

    @contextlib.asynccontextmanager
    async def order_lock(self, order_id: UUID) -> AsyncIterator[None]:
        async with self._orders.setdefault(order_id, asyncio.Lock()):
            yield

    async def ping(self) -> None:
        if self.down:
            raise ConnectionError("database down")


@dataclass
class FakeStripe:
    """Replays a create per idempotency key like Stripe; `fail_with` makes the next creates raise."""

    created: dict[str, CreatedSession] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail_with: list[Exception] = field(default_factory=list)
    remote: dict[str, RemoteSession] = field(default_factory=dict)
    refunds: dict[str, RefundSeen] = field(default_factory=dict)  # by idempotency key, as Stripe replays
    refund_fail_with: list[Exception] = field(default_factory=list)
    events: list[bytes] = field(default_factory=list)  # Stripe's event list, oldest first
    listed: list[tuple[tuple[str, ...], int]] = field(default_factory=list)  # (types, created_gte) asked
    facts: dict[str, PaymentFacts] = field(default_factory=dict)  # by session id: how it was paid, tax
    facts_asked: list[str] = field(default_factory=list)
    facts_fail_with: list[Exception] = field(default_factory=list)  # the next paid_facts calls raise
    _ids: Any = field(default_factory=itertools.count)

    async def create_session(self, params: dict[str, Any], idempotency_key: str) -> CreatedSession:
        self.calls.append(idempotency_key)
        if self.fail_with:
            raise self.fail_with.pop(0)
        if idempotency_key not in self.created:
            n = next(self._ids)
            self.created[idempotency_key] = CreatedSession(f"cs_test_{n}", f"https://pay.test/{n}")
        return self.created[idempotency_key]

    async def retrieve_session(self, session_id: str) -> RemoteSession | None:
        return self.remote.get(session_id)

    async def session_for_payment_intent(self, payment_intent_id: str) -> RemoteSession | None:
        return next((r for r in self.remote.values() if r.payment_intent_id == payment_intent_id), None)

    async def create_refund(self, params: dict[str, Any], idempotency_key: str) -> RefundSeen:
        self.calls.append(idempotency_key)
        if self.refund_fail_with:
            raise self.refund_fail_with.pop(0)
        if idempotency_key not in self.refunds:
            meta = params["metadata"]["paybus_refund"]
            self.refunds[idempotency_key] = RefundSeen(
                f"re_test_{next(self._ids)}", params["amount"], "eur", RefundStatus.SUCCEEDED, ours=meta
            )
        return self.refunds[idempotency_key]

    async def list_events(self, types: Sequence[str], created_gte: int) -> list[bytes]:
        self.listed.append((tuple(types), created_gte))
        if self.fail_with:
            raise self.fail_with.pop(0)
        return [
            body
            for body in self.events
            if (e := json.loads(body))["type"] in types and e["created"] >= created_gte
        ]

    async def paid_facts(self, session_id: str) -> PaymentFacts | None:
        self.facts_asked.append(session_id)
        if self.facts_fail_with:
            raise self.facts_fail_with.pop(0)
        return self.facts.get(session_id)

    async def aclose(self) -> None:
        return None


@dataclass
class FakeOrders:
    """The orders service as payments sees it: `orders` by id; `down` makes every read fail."""

    orders: dict[UUID, Order] = field(default_factory=dict)
    asked: list[UUID] = field(default_factory=list)
    down: bool = False

    def add(self, order: dict[str, Any]) -> Order:
        parsed = Order.model_validate(order)
        self.orders[parsed.id] = parsed
        return parsed

    async def get_order(self, order_id: UUID) -> Order | None:
        self.asked.append(order_id)
        if self.down:
            raise OrdersUnavailable("orders unreachable: ConnectError")
        return self.orders.get(order_id)

    async def aclose(self) -> None:
        return None


def make_deps(**overrides: Any) -> Deps:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        stripe_webhook_secret=SecretStr(f"{SECRET},whsec_old"),
        public_base_url="http://shop.test",
        service_token=SecretStr(SERVICE_TOKEN),
    )

    async def broker_ready() -> bool:
        return True

    values: dict[str, Any] = {
        "settings": settings,
        "store": InMemoryStore(),
        "stripe": FakeStripe(),
        "verifier": WebhookVerifier(settings.webhook_secrets),
        "orders": FakeOrders(),
        "broker_ready": broker_ready,
    }
    return Deps(**(values | overrides))


__all__ = [
    "SECRET",
    "SERVICE_TOKEN",
    "FakeOrders",
    "FakeStripe",
    "InMemoryStore",
    "StripeRefused",
    "make_deps",
]


def store(deps: Deps) -> InMemoryStore:
    assert isinstance(deps.store, InMemoryStore)
    return deps.store


def fake_stripe(deps: Deps) -> FakeStripe:
    assert isinstance(deps.stripe, FakeStripe)
    return deps.stripe


def fake_orders(deps: Deps) -> FakeOrders:
    assert isinstance(deps.orders, FakeOrders)
    return deps.orders
