"""In-memory fakes of the orders service's own ports: repository with transactions, inbox, outbox."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from messaging.event import Envelope
from messaging.testing import InMemoryBroker
from messaging.topology import TOPOLOGY, Queue
from orders.deps import Deps
from orders.domain import Order, ParkedReview, Product, Review

CATALOGUE = (
    Product("prod_coffee", "Yirgacheffe coffee beans", "250 g", 1450, "eur"),
    Product("prod_mug", "Stoneware mug", "350 ml", 1800, "eur"),
    Product("prod_cold_brew_kit", "Cold brew kit", "1 l", 3900, "usd"),
    Product("prod_french_press", "French press", "retired", 2900, "eur", active=False),
)
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Store:
    """What the database would hold; the outbox flushes to the broker on commit, like the relay."""

    products: dict[str, Product] = field(default_factory=lambda: {p.id: p for p in CATALOGUE})
    orders: dict[UUID, Order] = field(default_factory=dict)
    inbox: set[tuple[str, str]] = field(default_factory=set)
    reviews: list[ParkedReview] = field(default_factory=list)
    broker: InMemoryBroker = field(default_factory=InMemoryBroker)
    commits: int = 0


class InMemoryRepository:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.outbox: list[tuple[Envelope[Any], Queue | None, float]] = []

    async def list_products(self) -> list[Product]:
        return sorted((p for p in self._store.products.values() if p.active), key=lambda p: p.name)

    async def get_products(self, ids: Sequence[str]) -> dict[str, Product]:
        return {i: self._store.products[i] for i in ids if i in self._store.products}

    async def add_order(self, order: Order) -> None:
        assert order.id not in self._store.orders
        self._store.orders[order.id] = order

    async def get_order(self, order_id: UUID) -> Order | None:
        return self._store.orders.get(order_id)

    async def lock_order(self, order_id: UUID) -> Order | None:
        return self._store.orders.get(order_id)

    async def save_order(self, order: Order) -> None:
        assert order.id in self._store.orders
        self._store.orders[order.id] = order

    async def add_review(self, review: Review, *, message_id: str, kind: str) -> None:
        if all(r.message_id != message_id for r in self._store.reviews):
            at = datetime.now(UTC)
            self._store.reviews.append(
                ParkedReview(len(self._store.reviews) + 1, message_id, kind, at, review)
            )

    async def list_reviews(self, order_id: UUID | None = None, limit: int = 100) -> list[ParkedReview]:
        mine = [r for r in self._store.reviews if order_id is None or r.review.order_id == order_id]
        return list(reversed(mine))[:limit]

    async def claim(self, consumer: str, message_id: str) -> bool:
        key = (consumer, message_id)
        if key in self._store.inbox:
            return False
        self._store.inbox.add(key)
        return True

    async def add_to_outbox(
        self, envelope: Envelope[Any], *, queue: Queue | None = None, delay: float = 0.0
    ) -> None:
        self.outbox.append((envelope, queue, delay))


def transaction_of(store: Store):  # type: ignore[no-untyped-def]
    """A unit of work: commits on success (and publishes the outbox), restores the store on error."""

    @asynccontextmanager
    async def transaction() -> AsyncIterator[InMemoryRepository]:
        saved = (dict(store.orders), set(store.inbox), list(store.reviews))
        repo = InMemoryRepository(store)
        try:
            yield repo
        except BaseException:
            store.orders, store.inbox, store.reviews = saved
            raise
        store.commits += 1
        for envelope, queue, delay in repo.outbox:
            if queue is None:
                await store.broker.publish(envelope)
            else:
                await store.broker.send(envelope, queue, delay=delay)

    return transaction


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_deps(store: Store, *, ttl: float = 3600.0, clock: Clock | None = None, checks=None) -> Deps:  # type: ignore[no-untyped-def]
    return Deps(
        transaction=transaction_of(store),
        payment_ttl=ttl,
        deadline_queue=TOPOLOGY.queue("orders.deadlines"),
        checks=checks if checks is not None else {},
        now=clock or Clock(),
    )


def snapshot(store: Store) -> tuple[Any, ...]:
    """Everything a rejected request must leave untouched."""
    return (copy.deepcopy(store.orders), set(store.inbox), len(store.broker.messages), list(store.reviews))
