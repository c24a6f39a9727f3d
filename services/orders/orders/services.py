"""Orders use cases called by the routes: place an order (with its events), read orders and products."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID, uuid4

from messaging.event import Envelope
from orders import domain
from orders.deps import Deps
from orders.domain import Order, ParkedReview, Product
from orders.messages import PaymentDeadlineReached

log = logging.getLogger(__name__)


async def place_order(deps: Deps, email: str, items: Sequence[tuple[str, int]]) -> Order:
    """Price the lines from the catalogue and store the order, `order.created` and its deadline check.

    All three commit together or not at all; raise domain.InvalidOrder if a line is refused.
    """
    async with deps.transaction() as repo:
        catalogue = await repo.get_products(sorted({product_id for product_id, _ in items}))
        lines = domain.price_lines(items, catalogue)
        order = domain.new_order(uuid4(), email, lines, catalogue, now=deps.now(), ttl=deps.payment_ttl)
        await repo.add_order(order)
        # the correlation id of every message about an order is the order's id (README, "Correlation")
        created = Envelope.wrap(domain.created(order), correlation_id=str(order.id))
        await repo.add_to_outbox(created)
        check = created.follow_up(PaymentDeadlineReached(order_id=order.id))
        await repo.add_to_outbox(check, queue=deps.deadline_queue, delay=deps.payment_ttl)
    log.info("order %s placed: %d lines, %d %s", order.id, len(lines), order.total, order.currency)
    return order


async def get_order(deps: Deps, order_id: UUID) -> Order | None:
    async with deps.transaction() as repo:
        return await repo.get_order(order_id)


async def list_products(deps: Deps) -> list[Product]:
    async with deps.transaction() as repo:
        return await repo.list_products()


async def list_reviews(deps: Deps, order_id: UUID | None, limit: int) -> list[ParkedReview]:
    async with deps.transaction() as repo:
        return await repo.list_reviews(order_id, limit)
