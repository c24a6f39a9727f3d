"""Domain and webhook rules: payable orders, Stripe's expiry window, one outcome per session."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from payments import domain
from payments.domain import (
    InconsistentOrder,
    InvalidEvent,
    NotPayable,
    Order,
    Outcome,
    SessionStatus,
    StripeEvent,
)
from payments.stripe_gateway import WebhookRejected, WebhookVerifier
from stripe_sim.webhooks import signature_header

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def order(**overrides) -> Order:  # type: ignore[no-untyped-def]
    values = {
        "id": uuid.uuid4(),
        "status": "pending",
        "email": "ada@example.com",
        "items": [{"product_id": "p1", "name": "Mug", "quantity": 2, "unit_price": 1500, "line_total": 3000}],
        "total": 3000,
        "currency": "EUR",
        "payment_deadline": NOW + timedelta(hours=1),
    }
    return Order.model_validate(values | overrides)


def open_session(**overrides):  # type: ignore[no-untyped-def]
    s = domain.new_session(order(), 1, "http://shop.test", NOW + timedelta(hours=1))
    return replace(s, **({"status": SessionStatus.OPEN, "session_id": "cs_1"} | overrides))


def event(kind: str, **obj) -> StripeEvent:  # type: ignore[no-untyped-def]
    base = {"id": "cs_1", "amount_total": 3000, "currency": "eur", "payment_intent": "pi_1"}
    return StripeEvent(f"evt_{uuid.uuid4().hex}", kind, base | obj)


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (NOW + timedelta(hours=2), NOW + timedelta(hours=2)),
        (NOW + timedelta(minutes=5), NOW + timedelta(minutes=35)),
        (NOW + timedelta(minutes=34), NOW + timedelta(minutes=35)),
        (NOW + timedelta(days=3), NOW + timedelta(hours=24) - timedelta(minutes=5)),
        (None, NOW + timedelta(hours=24) - timedelta(minutes=5)),
    ],
)
def test_expiry_follows_the_deadline_inside_stripes_window_with_a_margin(deadline, expected) -> None:  # type: ignore[no-untyped-def]
    assert domain.expires_at(deadline, NOW, 1800) == expected


def test_only_pending_or_failed_orders_before_their_deadline_are_payable() -> None:
    domain.check_payable(order(), NOW)
    domain.check_payable(order(status="payment_failed"), NOW)
    with pytest.raises(NotPayable, match="paid"):
        domain.check_payable(order(status="paid"), NOW)
    with pytest.raises(NotPayable, match="deadline"):
        domain.check_payable(order(payment_deadline=NOW), NOW)


def test_session_parameters_come_from_the_order_record() -> None:
    o = order()
    s = domain.new_session(o, 3, "http://shop.test", NOW + timedelta(hours=1))

    assert s.idempotency_key == domain.idempotency_key(o.id, 3) == f"paybus-checkout-{o.id}-3"
    assert s.request["line_items"] == [
        {
            "price_data": {"currency": "eur", "unit_amount": 1500, "product_data": {"name": "Mug"}},
            "quantity": 2,
        }
    ]
    assert s.request["metadata"] == {"order_id": str(o.id)}
    assert s.request["client_reference_id"] == str(o.id)
    assert s.request["expires_at"] == int((NOW + timedelta(hours=1)).timestamp())
    assert (s.amount, s.currency) == (3000, "eur")
    json.dumps(s.request)  # stored as JSON and replayed as is


def test_lines_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(InconsistentOrder):
        domain.line_items(order(total=1))
    with pytest.raises(InconsistentOrder):
        domain.line_items(
            order(items=[{"product_id": "p", "name": "M", "quantity": 2, "unit_price": 1, "line_total": 3}])
        )


def test_no_new_attempt_while_a_payment_is_done_or_under_way() -> None:
    domain.check_retry(None)
    domain.check_retry(open_session(outcome=Outcome.FAILED, status=SessionStatus.COMPLETE))
    domain.check_retry(open_session(outcome=Outcome.EXPIRED, status=SessionStatus.EXPIRED))
    for blocking in (Outcome.SUCCEEDED, Outcome.PENDING):
        with pytest.raises(NotPayable):
            domain.check_retry(open_session(outcome=blocking))
    with pytest.raises(NotPayable):
        domain.check_retry(open_session(status=SessionStatus.COMPLETE))


def test_one_success_per_session_whatever_the_order_of_events() -> None:
    s = open_session()
    settled = domain.apply_session_event(
        s, event("checkout.session.async_payment_succeeded", payment_status="paid")
    )
    late_completed = domain.apply_session_event(
        settled.session, event("checkout.session.completed", payment_status="unpaid")
    )
    again = domain.apply_session_event(
        late_completed.session, event("checkout.session.completed", payment_status="paid")
    )

    assert [e.routing_key for e in settled.events] == ["payment.succeeded"]
    assert late_completed.events == ()
    assert again.events == ()
    assert again.session.outcome is Outcome.SUCCEEDED
    assert again.session.payment_status == "paid"


def test_a_failure_seen_first_is_final() -> None:
    failed = domain.apply_session_event(open_session(), event("checkout.session.async_payment_failed"))
    pending = domain.apply_session_event(
        failed.session, event("checkout.session.completed", payment_status="unpaid")
    )

    assert [e.routing_key for e in failed.events] == ["payment.failed"]
    assert pending.events == ()


def test_a_mismatched_amount_is_never_a_success() -> None:
    effect = domain.apply_session_event(
        open_session(), event("checkout.session.completed", payment_status="paid", amount_total=1)
    )

    assert effect.events == ()
    assert effect.note == "amount_mismatch"
    assert effect.mismatch == domain.Mismatch(1, "eur", 3000, "eur")
    assert effect.session.outcome is None


def test_refunds_publish_growing_totals_and_imply_the_success() -> None:
    s = open_session(payment_intent_id="pi_1")
    charge = {"amount": 3000, "currency": "eur", "payment_intent": "pi_1", "amount_captured": 3000}
    first = domain.apply_refund(
        s, StripeEvent("evt_a", "charge.refunded", charge | {"amount_refunded": 1000})
    )
    full = domain.apply_refund(
        first.session,
        StripeEvent("evt_b", "charge.refunded", charge | {"amount_refunded": 3000, "refunded": True}),
    )
    stale = domain.apply_refund(
        full.session, StripeEvent("evt_c", "charge.refunded", charge | {"amount_refunded": 1000})
    )

    assert [e.routing_key for e in first.events] == ["payment.succeeded", "payment.refunded"]
    assert [(e.amount, e.fully_refunded) for e in full.events] == [(3000, True)]  # type: ignore[attr-defined]
    assert stale.events == ()
    assert stale.note == "refund_already_seen"


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"id": 1, "type": "x", "data": {"object": {}}}',
     b'{"id": "evt", "type": "x", "data": {"object": []}}', b'{"object": "charge", "id": "ch", "type": "x"}'],
)  # fmt: skip
def test_bodies_that_are_not_stripe_events_are_invalid(body: bytes) -> None:
    with pytest.raises(InvalidEvent):
        domain.parse_event(body)


def test_signatures_verify_against_any_secret_within_300s_of_the_past() -> None:
    verifier = WebhookVerifier(("whsec_new", "whsec_old"))
    now = int(time.time())

    verifier.verify(b"{}", signature_header("whsec_old", "{}", now - 290))
    verifier.verify(b"{}", signature_header("whsec_new", "{}", now))
    stale = signature_header("whsec_new", "{}", now - 400)
    for header in (stale, signature_header("whsec_other", "{}", now), "t=x,v1=y", ""):
        with pytest.raises(WebhookRejected):
            verifier.verify(b"{}", header)
