"""Property (issue 15): whatever order and however often Stripe sends one payment's refund events,
payments ends with the true totals, each refund in its last status, one reversal published, and the
totals it publishes (what orders keeps) adding up to the truth."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from payments import domain
from payments.domain import Outcome, Refund, RefundStatus, StripeEvent

from .test_payments_domain import open_session


def _refund(rid: str, amount: int, status: str, **extra: object) -> dict[str, object]:
    return {"object": "refund", "id": rid, "amount": amount, "currency": "eur", "status": status,
            "payment_intent": "pi_1", "metadata": {}} | extra  # fmt: skip


def _charge(net: int) -> dict[str, object]:
    return {"amount": 3000, "currency": "eur", "payment_intent": "pi_1", "amount_refunded": net,
            "amount_captured": 3000, "refunded": net == 3000}  # fmt: skip


# One payment of 3000: re_1 (1000) pending then succeeded; re_2 (2000) succeeded, then failed.
# charge.refunded snapshots carry Stripe's net at their time: 1000, then 3000.
HISTORY = [
    StripeEvent("evt_1", "refund.created", _refund("re_1", 1000, "pending")),
    StripeEvent("evt_2", "charge.refunded", _charge(1000)),
    StripeEvent("evt_3", "refund.updated", _refund("re_1", 1000, "succeeded")),
    StripeEvent("evt_4", "refund.created", _refund("re_2", 2000, "succeeded")),
    StripeEvent("evt_5", "charge.refunded", _charge(3000)),
    StripeEvent("evt_6", "refund.updated", _refund("re_2", 2000, "failed", failure_reason="declined")),
    StripeEvent("evt_7", "refund.failed", _refund("re_2", 2000, "failed", failure_reason="declined")),
    StripeEvent("evt_8", "charge.refund.updated", _refund("re_2", 2000, "failed", failure_reason="declined")),
]


def _apply(deliveries: list[StripeEvent]):  # type: ignore[no-untyped-def]
    session = replace(open_session(), outcome=Outcome.SUCCEEDED, payment_intent_id="pi_1")
    refunds: list[Refund] = []
    published = []
    for event in deliveries:
        rule = domain.apply_refund if event.type == "charge.refunded" else domain.apply_refund_object
        effect = rule(session, event, refunds)
        session = effect.session
        for record in effect.refunds:  # as the repository stores them (a new row gets an id)
            if record.id is None:
                refunds.append(replace(record, id=len(refunds) + 1))
            else:
                refunds = [record if r.id == record.id else r for r in refunds]
        published.extend(effect.events)
    return session, refunds, published


@settings(max_examples=300, deadline=None)
@given(st.permutations(HISTORY), st.lists(st.integers(0, len(HISTORY) - 1), max_size=6))
def test_any_order_and_copies_end_in_the_truth_and_one_reversal(order, copies) -> None:  # type: ignore[no-untyped-def]
    deliveries = list(order) + [HISTORY[i] for i in copies]
    session, refunds, published = _apply(deliveries)

    assert (session.refunded_amount, session.reversed_amount) == (3000, 2000)
    assert {r.stripe_refund_id: r.status for r in refunds} == {
        "re_1": RefundStatus.SUCCEEDED, "re_2": RefundStatus.FAILED}  # fmt: skip
    keys = [e.routing_key for e in published]
    assert keys.count("payment.refund_reversed") == 1
    assert "payment.succeeded" not in keys
    assert "payment.duplicate_refunded" not in keys
    # what orders keeps: the largest gross and reversed totals any event carried
    gross = max(e.amount + e.amount_reversed for e in published)  # type: ignore[attr-defined]
    reversed_ = max(e.amount_reversed for e in published)  # type: ignore[attr-defined]
    assert (gross, reversed_) == (3000, 2000)
    refunded = [e for e in published if e.routing_key == "payment.refunded"]
    grosses = [e.amount + e.amount_reversed for e in refunded]  # type: ignore[attr-defined]
    assert grosses == sorted(set(grosses))  # each payment.refunded is news: the gross grew
    assert all(e.amount > 0 for e in refunded)  # a refund heard of only as failed is not "issued"
