"""Every transition of the order state machine, and pricing an order from the catalogue."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest

from messaging.events.orders import OrderStatus
from orders import domain
from orders.domain import InvalidOrder, Order, Outcome, Payment, Reversal, Session
from tests.support.orders import CATALOGUE, T0
from tests.support.refunds import ORDER_REFUND_REVERSED, order_refund_reversed

CATALOGUE_BY_ID = {p.id: p for p in CATALOGUE}
AT = T0 + timedelta(minutes=5)


def order(status: OrderStatus = OrderStatus.PENDING, **changes) -> Order:  # type: ignore[no-untyped-def]
    lines = domain.price_lines([("prod_coffee", 2)], CATALOGUE_BY_ID)
    new = domain.new_order(uuid4(), "ada@example.com", lines, CATALOGUE_BY_ID, now=T0, ttl=3600)
    return dataclasses.replace(new, status=status, **changes)


def pay(session: str = "cs_1", amount: int = 2900, captured: int | None = 2900) -> Payment:
    return Payment(session, "pi_1", amount, AT, "eur", captured)


EVENTS: dict[str, Callable[[Order], Outcome]] = {
    "pending": lambda o: domain.payment_pending(o, pay()),
    "succeeded": lambda o: domain.payment_succeeded(o, pay()),
    "failed": lambda o: domain.payment_failed(o, pay()),
    "expired": lambda o: domain.payment_expired(o, pay()),
    "refunded_full": lambda o: domain.payment_refunded(o, pay(), full=True),
    "refunded_partial": lambda o: domain.payment_refunded(o, pay(amount=500), full=False),
    "deadline": lambda o: domain.deadline_reached(o, AT),
    # the full refund failed at Stripe: nothing stays refunded, 2900 reversed
    "refund_failed": lambda o: domain.refund_reversed(
        o, dataclasses.replace(pay(amount=0), reversed=2900), Reversal("re_1", 2900, "failed")
    ),
}
P, F, C, D, R = (
    OrderStatus.PENDING,
    OrderStatus.PAYMENT_FAILED,
    OrderStatus.CANCELED,
    OrderStatus.PAID,
    OrderStatus.REFUNDED,
)
# (from, event, to, order events published): the state table as built.
TABLE = [
    (P, "pending", P, []),
    (P, "succeeded", D, ["order.paid"]),
    (P, "failed", F, ["order.payment_failed"]),
    (P, "expired", C, ["order.canceled"]),
    (P, "deadline", C, ["order.canceled"]),
    (P, "refunded_full", R, ["order.paid", "order.refunded"]),
    (P, "refunded_partial", D, ["order.paid"]),
    (P, "refund_failed", P, []),  # its totals are kept for the payment.succeeded to come
    (F, "refund_failed", F, []),
    (C, "refund_failed", C, []),
    (F, "pending", F, []),
    (F, "succeeded", D, ["order.paid"]),
    (F, "failed", F, ["order.payment_failed"]),  # another session failed: its own e-mail
    (F, "expired", C, ["order.canceled"]),
    (F, "deadline", C, ["order.canceled"]),
    (F, "refunded_full", R, ["order.paid", "order.refunded"]),
    (C, "pending", C, []),
    (C, "succeeded", D, ["order.paid"]),
    (C, "failed", C, []),
    (C, "expired", C, []),
    (C, "deadline", C, []),
    (C, "refunded_full", R, ["order.paid", "order.refunded"]),
    (D, "pending", D, []),
    (D, "succeeded", D, []),
    (D, "failed", D, []),
    (D, "expired", D, []),
    (D, "deadline", D, []),
    (D, "refunded_partial", D, []),
    (D, "refunded_full", R, ["order.refunded"]),
    (D, "refund_failed", D, ["order.refund_reversed"]),
    *[(R, event, R, []) for event in EVENTS if event != "refund_failed"],
    (R, "refund_failed", D, ["order.refund_reversed"]),  # the one move back (issue 15)
]


@pytest.mark.parametrize(("start", "event", "end", "published"), TABLE)
def test_state_table(start: OrderStatus, event: str, end: OrderStatus, published: list[str]) -> None:
    outcome = EVENTS[event](order(start))
    assert outcome.order.status is end
    assert [e.routing_key for e in outcome.events] == published
    for e in outcome.events:
        assert e.status == end.value or e.routing_key == "order.paid"  # type: ignore[attr-defined]
        assert e.email == "ada@example.com"  # type: ignore[attr-defined]


def test_paid_records_stripe_ids_and_time_in_order_paid() -> None:
    outcome = domain.payment_succeeded(order(), Payment("cs_9", "pi_9", 2900, AT, "eur"))
    paid = outcome.order
    assert (paid.checkout_session_id, paid.payment_intent_id, paid.paid_at) == ("cs_9", "pi_9", AT)
    event = outcome.events[0]
    assert event.model_dump(include={"checkout_session_id", "payment_intent_id", "paid_at", "total"}) == {
        "checkout_session_id": "cs_9",
        "payment_intent_id": "pi_9",
        "paid_at": AT,
        "total": 2900,
    }


def test_a_later_session_does_not_overwrite_the_paying_one() -> None:
    paid = domain.payment_succeeded(order(), Payment("cs_paid", "pi_paid", 2900, AT, "eur")).order
    after = domain.payment_failed(paid, Payment("cs_other", "pi_other", 2900, AT, "eur")).order
    assert (after.checkout_session_id, after.payment_intent_id) == ("cs_paid", "pi_paid")


def test_partial_refund_keeps_paid_and_records_the_amount_then_full_refund_refunds() -> None:
    paid = domain.payment_succeeded(order(), pay()).order
    partial = domain.payment_refunded(paid, pay(amount=1000), full=False).order
    assert (partial.status, partial.refunded_amount) == (OrderStatus.PAID, 1000)
    late = domain.payment_refunded(partial, pay(amount=400), full=False).order  # an older, smaller total
    assert late.refunded_amount == 1000
    full = domain.payment_refunded(late, pay(amount=2900), full=False)  # the whole total is back
    assert full.order.status is OrderStatus.REFUNDED
    assert full.events[0].amount_refunded == 2900  # type: ignore[attr-defined]


def _refund(amount: int, reversed_: int = 0) -> Payment:
    return dataclasses.replace(pay(amount=amount), reversed=reversed_)


def test_a_failed_refund_restores_paid_and_the_amount_once_and_a_new_refund_refunds_again() -> None:
    paid = domain.payment_succeeded(order(), pay()).order
    half = domain.payment_refunded(paid, _refund(1450), full=False).order
    refunded = domain.payment_refunded(half, _refund(2900), full=True)
    failed = domain.refund_reversed(refunded.order, _refund(1450, 1450), Reversal("re_b", 1450, "failed"))
    copy = domain.refund_reversed(failed.order, _refund(1450, 1450), Reversal("re_b", 1450, "failed"))
    stale = domain.payment_refunded(failed.order, _refund(2900), full=True)  # from before the failure
    again = domain.payment_refunded(failed.order, _refund(2900, 1450), full=True)

    assert [e.routing_key for e in refunded.events] == ["order.refunded"]
    assert (failed.order.status, failed.order.refunded_amount, failed.order.refund_reversals) == (
        OrderStatus.PAID,
        1450,
        1,
    )
    (reversed_,) = failed.events
    assert reversed_.model_dump(include=set(ORDER_REFUND_REVERSED)) == order_refund_reversed(
        "re_b", 1450, still_refunded=1450
    )
    assert (copy.order, copy.events) == (failed.order, ())
    assert (stale.order, stale.events) == (failed.order, ())
    assert again.order.status is OrderStatus.REFUNDED
    assert [(e.routing_key, e.refund_reversals) for e in again.events] == [("order.refunded", 1)]  # type: ignore[attr-defined]


def test_a_reversal_seen_before_its_refund_leaves_nothing_refunded() -> None:
    paid = domain.payment_succeeded(order(), pay()).order
    failed = domain.refund_reversed(paid, _refund(0, 2900), Reversal("re_1", 2900, "canceled"))
    late_refund = domain.payment_refunded(failed.order, _refund(2900), full=True)

    assert [e.routing_key for e in failed.events] == ["order.refund_reversed"]
    assert (late_refund.order.status, late_refund.order.refunded_amount, late_refund.events) == (
        OrderStatus.PAID,
        0,
        (),
    )


def test_deadline_waits_for_a_payment_in_flight_and_its_failure_cancels() -> None:
    in_flight = domain.payment_pending(order(), pay("cs_slow")).order
    assert in_flight.sessions == {"cs_slow": Session.IN_FLIGHT}
    waited = domain.deadline_reached(in_flight, AT)
    assert (waited.order.status, waited.order.deadline_reached, waited.events) == (P, True, ())
    failed = domain.payment_failed(waited.order, pay("cs_slow"))
    assert failed.order.status is C
    assert failed.events[0].reason == "payment_deadline"  # type: ignore[attr-defined]


def test_deadline_waits_for_a_payment_in_flight_and_its_success_pays() -> None:
    waited = domain.deadline_reached(domain.payment_pending(order(), pay("cs_slow")).order, AT).order
    assert domain.payment_succeeded(waited, pay("cs_slow")).order.status is D


def test_expiry_of_one_session_does_not_cancel_while_another_payment_is_in_flight() -> None:
    in_flight = domain.payment_pending(order(), pay("cs_b")).order
    expired = domain.payment_expired(in_flight, pay("cs_a"))
    assert (expired.order.status, expired.events) == (P, ())
    assert expired.order.sessions == {"cs_b": Session.IN_FLIGHT, "cs_a": Session.EXPIRED}
    assert domain.payment_failed(expired.order, pay("cs_b")).order.status is F


def test_a_late_pending_never_puts_an_ended_session_back_in_flight() -> None:
    failed = domain.payment_failed(order(), pay("cs_1")).order
    late = domain.payment_pending(failed, pay("cs_1")).order
    assert late.sessions == {"cs_1": Session.FAILED}
    assert domain.deadline_reached(late, AT).order.status is C


def test_price_lines_computes_totals_from_the_catalogue() -> None:
    lines = domain.price_lines([("prod_coffee", 3), ("prod_mug", 1)], CATALOGUE_BY_ID)
    new = domain.new_order(uuid4(), "a@example.com", lines, CATALOGUE_BY_ID, now=T0, ttl=60)
    assert [(x.unit_price, x.line_total) for x in lines] == [(1450, 4350), (1800, 1800)]
    assert (new.total, new.currency, new.payment_deadline) == (6150, "eur", T0 + timedelta(seconds=60))


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([("prod_nope", 1)], "unknown product 'prod_nope'"),
        ([("prod_french_press", 1)], "product 'prod_french_press' is no longer sold"),
        ([("prod_coffee", 1), ("prod_cold_brew_kit", 1)], "one currency per order"),
        ([("prod_coffee", 1), ("prod_coffee", 2)], "appears on two lines"),
    ],
)
def test_price_lines_refuses_with_a_message_naming_the_line(items, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidOrder) as refused:
        domain.price_lines(items, CATALOGUE_BY_ID)
    (problem,) = refused.value.problems
    assert message in problem.message
    assert (problem.line, problem.field) == (len(items) - 1, "product_id")
