"""Refund rules: a second payment is refunded, never published as a success; each refund's status at
Stripe only moves forward; a refund that fails or is canceled is published as reversed, once."""

from __future__ import annotations

from dataclasses import replace

from payments import domain
from payments.domain import Outcome, Refund, RefundSeen, RefundStatus, Session, StripeEvent
from tests.support.refunds import PAYMENT_REFUND_REVERSED, payment_refund_reversed

from .test_payments_domain import event, open_session


def _refund_event(kind: str, rid: str, status: str, amount: int = 3000, **extra) -> StripeEvent:  # type: ignore[no-untyped-def]
    obj = {"object": "refund", "id": rid, "amount": amount, "currency": "eur", "status": status,
           "payment_intent": "pi_1", "charge": "ch_1", "metadata": {}} | extra  # fmt: skip
    return StripeEvent(f"evt_{kind}_{rid}_{status}", kind, obj)


def _paid(session: Session) -> Session:
    return replace(session, outcome=Outcome.SUCCEEDED, succeeded_event_id="evt_0", payment_intent_id="pi_1")


def test_a_second_successful_session_is_recorded_and_refunded_not_published() -> None:
    second = open_session(session_id="cs_2")
    effect = domain.apply_session_event(
        second, event("checkout.session.completed", payment_status="paid", id="cs_2"), paid_by="cs_1"
    )

    assert effect.events == ()
    assert effect.note == "duplicate_payment"
    assert effect.session.outcome is Outcome.SUCCEEDED
    assert effect.session.duplicate_of == "cs_1"
    (plan,) = effect.refunds
    assert (plan.status, plan.amount, plan.currency) == (RefundStatus.TO_ISSUE, 3000, "eur")
    assert plan.idempotency_key == "paybus-refund-cs_2" == domain.refund_key("cs_2")
    assert domain.refund_request(plan) == {
        "payment_intent": "pi_1",
        "amount": 3000,
        "reason": "duplicate",
        "metadata": {
            "order_id": str(plan.order_id),
            "checkout_session_id": "cs_2",
            "paybus_refund": "paybus-refund-cs_2",
        },
    }


def test_the_first_success_still_pays_and_a_mismatched_second_is_parked_not_refunded() -> None:
    first = domain.apply_session_event(
        open_session(), event("checkout.session.completed", payment_status="paid")
    )
    wrong = domain.apply_session_event(
        open_session(session_id="cs_2"),
        event("checkout.session.completed", payment_status="paid", id="cs_2", amount_total=1),
        paid_by="cs_1",
    )

    assert [e.routing_key for e in first.events] == ["payment.succeeded"]
    assert wrong.note == "amount_mismatch"
    assert wrong.refunds == ()
    assert wrong.session.duplicate_of is None


def test_issuing_our_refund_publishes_duplicate_refunded_once_and_no_payment_refunded() -> None:
    second = replace(_paid(open_session(session_id="cs_2")), duplicate_of="cs_1")
    plan = replace(domain.duplicate_refund(second, StripeEvent("evt_dup", "x", {})), id=1)
    seen = RefundSeen("re_1", 3000, "eur", RefundStatus.SUCCEEDED, ours=plan.idempotency_key)

    issued = domain.refund_seen(second, [plan], seen, "evt_dup")
    webhook = domain.apply_refund_object(
        issued.session, _refund_event("refund.created", "re_1", "succeeded"), list(issued.refunds)
    )
    charge = {
        "amount": 3000,
        "currency": "eur",
        "payment_intent": "pi_1",
        "amount_refunded": 3000,
        "refunded": True,
    }
    charge_refunded = domain.apply_refund(
        webhook.session, StripeEvent("evt_ch", "charge.refunded", charge), list(issued.refunds)
    )

    (event_,) = issued.events
    assert event_.routing_key == "payment.duplicate_refunded"
    assert event_.model_dump(
        include={"refund_id", "amount", "paid_by_checkout_session_id", "stripe_event_id"}
    ) == {
        "refund_id": "re_1",
        "amount": 3000,
        "paid_by_checkout_session_id": "cs_1",
        "stripe_event_id": "evt_dup",
    }
    assert issued.refunds[0].stripe_refund_id == "re_1"
    assert issued.session.refunded_amount == 3000
    assert webhook.events == ()
    assert webhook.note == "refund_already_seen"
    assert charge_refunded.events == ()  # the order's payment was not refunded: orders hears nothing


def test_a_refund_lifecycle_publishes_refunded_then_reversed_and_stale_news_changes_nothing() -> None:
    s = _paid(open_session())
    created = domain.apply_refund_object(s, _refund_event("refund.created", "re_1", "pending"))
    refunds: list[Refund] = [replace(r, id=1) for r in created.refunds]
    failed = domain.apply_refund_object(
        created.session, _refund_event("refund.failed", "re_1", "failed", failure_reason="declined"), refunds
    )
    refunds = list(failed.refunds)
    late_pending = domain.apply_refund_object(
        failed.session, _refund_event("refund.updated", "re_1", "pending"), refunds
    )
    # charge.refunded from before the failure (its net total then): the gross already counts it
    stale_charge = {"amount": 3000, "currency": "eur", "payment_intent": "pi_1", "amount_refunded": 3000}
    stale = domain.apply_refund(
        failed.session, StripeEvent("evt_old", "charge.refunded", stale_charge), refunds
    )

    assert [e.routing_key for e in created.events] == ["payment.refunded"]
    assert created.events[0].model_dump(include={"amount", "amount_reversed", "fully_refunded"}) == {
        "amount": 3000,
        "amount_reversed": 0,
        "fully_refunded": True,
    }
    assert [e.routing_key for e in failed.events] == ["payment.refund_reversed"]
    assert failed.events[0].model_dump(include=set(PAYMENT_REFUND_REVERSED)) == payment_refund_reversed(
        "re_1", 3000, "declined"
    )
    assert (failed.session.refunded_amount, failed.session.reversed_amount) == (3000, 3000)
    assert late_pending.events == ()
    assert late_pending.note == "refund_already_seen"
    assert stale.events == ()


def test_a_new_refund_after_a_failed_one_is_published_with_the_grown_gross() -> None:
    s = replace(_paid(open_session()), refunded_amount=3000, reversed_amount=3000)
    old = Refund(s.order_id, "cs_1", "pi_1", 3000, "eur", "stripe", RefundStatus.FAILED, "re_1", id=1)

    again = domain.apply_refund_object(
        s, _refund_event("refund.created", "re_2", "succeeded", amount=1000), [old]
    )

    (refunded,) = again.events
    assert refunded.model_dump(include={"amount", "amount_reversed", "fully_refunded"}) == {
        "amount": 1000,
        "amount_reversed": 3000,
        "fully_refunded": False,
    }


def test_a_canceled_refund_of_a_second_payment_is_published_as_such() -> None:
    second = replace(_paid(open_session(session_id="cs_2")), duplicate_of="cs_1", refunded_amount=3000)
    ours = Refund(
        second.order_id,
        "cs_2",
        "pi_1",
        3000,
        "eur",
        domain.DUPLICATE_PAYMENT,
        RefundStatus.PENDING,
        "re_9",
        "paybus-refund-cs_2",
        id=1,
    )

    canceled = domain.apply_refund_object(second, _refund_event("refund.updated", "re_9", "canceled"), [ours])

    (reversed_,) = canceled.events
    assert reversed_.routing_key == "payment.refund_reversed"
    assert reversed_.second_payment is True  # type: ignore[attr-defined]
    assert reversed_.amount == 0  # type: ignore[attr-defined]


def test_forged_or_foreign_refund_objects_change_nothing() -> None:
    s = _paid(open_session())
    bad = [
        _refund_event("refund.created", "not-a-refund-id", "succeeded"),
        _refund_event("refund.created", "re_1", "mystery"),
        _refund_event("refund.created", "re_1", "succeeded", amount=-5),
        _refund_event("refund.created", "re_1", "succeeded", object="charge"),
    ]
    for forged in bad:
        effect = domain.apply_refund_object(s, forged)
        assert (effect.events, effect.refunds, effect.note) == ((), (), "invalid_refund")
    too_much = domain.apply_refund_object(
        s, _refund_event("refund.created", "re_1", "succeeded", amount=9999)
    )
    other_currency = domain.apply_refund_object(
        s, _refund_event("refund.created", "re_1", "succeeded", currency="usd")
    )
    for effect in (too_much, other_currency):
        assert effect.events == ()
        assert effect.refunds == ()
        assert effect.note == "amount_mismatch"
        assert effect.session.refunded_amount == 0


def test_refund_statuses_only_move_forward() -> None:
    r = Refund(open_session().order_id, "cs_1", "pi_1", 1, "eur", "stripe", RefundStatus.PENDING, "re_1")
    assert r.moved(RefundStatus.SUCCEEDED)
    assert r.moved(RefundStatus.REQUIRES_ACTION)
    assert r.moved(RefundStatus.FAILED)
    done = replace(r, status=RefundStatus.SUCCEEDED)
    assert done.moved(RefundStatus.FAILED)
    assert not done.moved(RefundStatus.PENDING)
    assert not replace(r, status=RefundStatus.FAILED).moved(RefundStatus.CANCELED)
