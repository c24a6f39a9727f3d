"""Property (issue 14): whatever order, interleaving and number of copies the events arrive in, the
notifier's projection of every order ends in the status the orders service decided, and never runs
ahead of it on the way.

Orders consumes random payment events (fresh copies and redeliveries); each order event it publishes,
and each payment event of payments' fanout, reaches the notifier at a random later moment, some more
than once. A fanout event the notifier cannot place yet (no order event has arrived) is retried later,
as the retry ladder does.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from messaging.event import Envelope
from messaging.events.orders import OrderStatus, newer
from messaging.testing import InMemoryBroker
from notifier.domain import OrderNotKnown
from notifier.handlers import HANDLERS as NOTIFIER_HANDLERS
from orders import services
from orders.handlers import HANDLERS as ORDERS_HANDLERS
from tests.support import notifier as notifier_fakes
from tests.support import orders as orders_fakes
from tests.support.events import payment_event

KINDS = (
    "succeeded",
    "failed",
    "expired",
    "refunded",
    "partially_refunded",
    "deadline",
    "pending",
    "refund_failed",
    "refunded_again",
)
BUS = InMemoryBroker()  # runs a handler as a consumer would (JSON round trip)
# what the notifier reads from payments' fanout (refund e-mails)
FANOUT = {"payment.refunded", "payment.refund_reversed", "payment.duplicate_refunded"}


async def _run(kinds: list[tuple[str, bool]], rnd: random.Random) -> tuple[OrderStatus, OrderStatus]:
    store = orders_fakes.Store()
    orders = orders_fakes.make_deps(store)
    notifier, projection, _mailer = notifier_fakes.make_deps()
    order = await services.place_order(orders, "ada@example.com", [("prod_coffee", 2)])
    sent: dict[str, Envelope[Any]] = {}
    in_flight: list[Envelope[Any]] = []  # on their way to the notifier
    seen = 0

    def collect() -> None:
        nonlocal seen
        for msg in store.broker.published[seen:]:
            in_flight.extend([msg] * rnd.choice((1, 1, 2)))  # some delivered twice
        seen = len(store.broker.published)

    async def to_notifier() -> None:
        msg = in_flight.pop(rnd.randrange(len(in_flight)))
        try:
            await BUS.deliver(msg, NOTIFIER_HANDLERS, notifier)
        except OrderNotKnown:
            in_flight.append(msg)  # the retry ladder brings it back later
        _check_not_ahead(projection, store, order.id)

    collect()  # order.created
    for kind, redeliver in kinds:
        envelope = sent[kind] if redeliver and kind in sent else payment_event(kind, order.id)
        sent[kind] = envelope
        await store.broker.deliver(envelope, ORDERS_HANDLERS, orders)
        if envelope.type in FANOUT:
            in_flight.append(envelope)
        collect()
        for _ in range(rnd.randrange(3)):
            if in_flight:
                await to_notifier()
    for _ in range(1000):
        if not in_flight:
            break
        await to_notifier()
    assert not in_flight, [m.type for m in in_flight]
    return store.orders[order.id].status, projection.orders[order.id].status


def _check_not_ahead(projection: Any, store: orders_fakes.Store, order_id: Any) -> None:
    mirrored, decided = projection.orders.get(order_id), store.orders[order_id]
    if mirrored is not None:
        assert not newer(mirrored.status, mirrored.refund_reversals, decided.status, decided.refund_reversals)


def run(kinds: list[tuple[str, bool]], seed: int) -> tuple[OrderStatus, OrderStatus]:
    loop = asyncio.new_event_loop()  # hypothesis drives sync tests; one private loop per example
    try:
        return loop.run_until_complete(_run(kinds, random.Random(seed)))
    finally:
        loop.close()


deliveries = st.lists(st.tuples(st.sampled_from(KINDS), st.booleans()), max_size=12)


@settings(max_examples=150, deadline=None)
@given(deliveries, st.integers(0, 2**32))
def test_orders_and_notifier_always_agree_on_the_status(kinds, seed) -> None:  # type: ignore[no-untyped-def]
    decided, mirrored = run(kinds, seed)
    assert mirrored is decided, kinds


@settings(max_examples=50, deadline=None)
@given(st.permutations(KINDS), st.integers(0, 2**32))
def test_every_event_in_any_order_agrees_and_ends_refunded(kinds, seed) -> None:  # type: ignore[no-untyped-def]
    decided, mirrored = run([(kind, False) for kind in kinds], seed)
    assert (decided, mirrored) == (OrderStatus.REFUNDED, OrderStatus.REFUNDED)


@settings(max_examples=50, deadline=None)
@given(
    st.permutations(("succeeded", "partially_refunded", "refunded", "refund_failed")), st.integers(0, 2**32)
)
def test_a_failed_refund_in_any_order_leaves_both_paid(kinds, seed) -> None:  # type: ignore[no-untyped-def]
    decided, mirrored = run([(kind, False) for kind in kinds], seed)
    assert (decided, mirrored) == (OrderStatus.PAID, OrderStatus.PAID)
