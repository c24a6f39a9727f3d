"""Property: whatever order and however often payment events arrive, one order ends in one right state."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from orders import services
from orders.handlers import HANDLERS
from tests.support.events import KINDS, payment_event
from tests.support.orders import Store, make_deps

# A delivery: (kind, redeliver): redeliver=True repeats an earlier message of that kind with the same
# message id (AMQP redelivery, absorbed by the inbox); False sends a fresh message with the same facts
# (Stripe's duplicates and retries, absorbed by the state machine).
Delivery = tuple[str, bool]


def expected(kinds: list[str]) -> tuple[str, dict[str, int]]:
    """The oracle: the single correct end state, and how many of each order event it publishes."""
    seen = set(kinds)
    if "refunded" in seen:
        status = "refunded"
    elif "succeeded" in seen:
        status = "paid"
    elif seen & {"expired", "deadline"}:
        status = "canceled"
    elif "failed" in seen:
        status = "payment_failed"
    else:
        status = "pending"
    deciding = [k for k in kinds if k in {"expired", "deadline", "succeeded", "refunded"}]
    counts = {
        "order.created": 1,
        "order.paid": int(bool(seen & {"succeeded", "refunded"})),
        "order.canceled": int(bool(deciding) and deciding[0] in {"expired", "deadline"}),
        "order.refunded": int("refunded" in seen),
    }
    return status, counts


async def _run(deliveries: list[Delivery]) -> tuple[str, Counter[str], int]:
    store = Store()
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    sent = {}
    for kind, redeliver in deliveries:
        envelope = sent[kind] if redeliver and kind in sent else payment_event(kind, order.id)
        sent[kind] = envelope
        assert await store.broker.deliver(envelope, HANDLERS, deps)
    final = store.orders[order.id]
    published = Counter(e.type for e in store.broker.published)
    return final.status.value, published, len(store.inbox)


def run(deliveries: list[Delivery]) -> tuple[str, Counter[str], int]:
    loop = asyncio.new_event_loop()  # hypothesis drives sync tests; one private loop per example
    try:
        return loop.run_until_complete(_run(deliveries))
    finally:
        loop.close()


def _check(deliveries: list[Delivery]) -> None:
    kinds = [kind for kind, _ in deliveries]
    status, published = run(deliveries)[:2]
    want_status, want_counts = expected(kinds)
    assert status == want_status, deliveries
    assert {k: published[k] for k in want_counts} == want_counts, deliveries
    # one e-mail-worthy failure per failed message orders heard while the order was still unpaid
    deciding = [k for k in kinds if k != "pending"]
    failures = published["order.payment_failed"]
    assert failures <= kinds.count("failed"), deliveries
    assert (failures > 0) == (deciding[:1] == ["failed"]), deliveries
    assert set(published) <= {*want_counts, "order.payment_failed"}


@st.composite
def every_kind_shuffled_with_duplicates(draw: st.DrawFn) -> list[Delivery]:
    deliveries: list[Delivery] = [(k, False) for k in draw(st.permutations(KINDS))]
    extras = draw(st.lists(st.tuples(st.sampled_from(KINDS), st.booleans(), st.integers(0, 30)), max_size=8))
    for kind, redeliver, position in extras:
        deliveries.insert(position % (len(deliveries) + 1), (kind, redeliver))
    return deliveries


@settings(max_examples=300, deadline=None)
@given(every_kind_shuffled_with_duplicates())
def test_every_permutation_and_duplication_ends_refunded_with_exactly_one_order_paid(deliveries) -> None:  # type: ignore[no-untyped-def]
    _check(deliveries)
    status, published = run(deliveries)[:2]
    assert (status, published["order.paid"], published["order.refunded"]) == ("refunded", 1, 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.booleans()), max_size=10))
def test_any_subset_in_any_order_ends_in_the_oracles_state_with_at_most_one_of_each_event(deliveries) -> None:  # type: ignore[no-untyped-def]
    _check(deliveries)


def test_a_redelivered_message_is_absorbed_by_the_inbox() -> None:
    status, published, claimed = run([("succeeded", False), ("succeeded", True), ("succeeded", True)])
    assert (status, published["order.paid"], claimed) == ("paid", 1, 1)
