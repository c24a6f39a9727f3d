"""How a payment was paid and its tax: read from Stripe at webhook time, carried on payment.succeeded.

The webhook's Checkout Session has its payment intent as an id and no tax breakdown; payments asks
Stripe for the session with the charge and the breakdown expanded (before its transaction) and puts
what it learns on the success event, which orders copies onto order.paid for the invoice.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from messaging.events.payments import PaymentMethod, Tax, TaxLine
from payments import domain
from payments.domain import PaymentFacts
from payments.settings import Settings
from payments.stripe_gateway import StripeUnavailable, facts_of
from tests.support.payments import fake_stripe, store

from .test_payments_routes import an_order, checkout, completed, post_event

VAT = {"id": "txr_1", "object": "tax_rate", "display_name": "VAT", "percentage": 19.0, "inclusive": True,
       "country": "DE", "jurisdiction": None}  # fmt: skip


def _session(details: dict[str, Any] | None, amount_tax: int = 0, taxes: list[Any] | None = None) -> Any:
    charge = {"id": "ch_1", "object": "charge", "payment_method_details": details}
    totals: dict[str, Any] = {"amount_discount": 0, "amount_shipping": 0, "amount_tax": amount_tax}
    if taxes is not None:
        totals["breakdown"] = {"discounts": [], "taxes": taxes}
    return {"id": "cs_1", "payment_intent": {"id": "pi_1", "latest_charge": charge}, "total_details": totals}


@pytest.mark.parametrize(
    ("details", "method"),
    [
        ({"type": "card", "card": {"brand": "visa", "last4": "4242", "wallet": None}},
         PaymentMethod(type="card", brand="visa", last4="4242")),
        ({"type": "card", "card": {"brand": "amex", "last4": "0005", "wallet": {"type": "apple_pay"}}},
         PaymentMethod(type="card", brand="amex", last4="0005", wallet="apple_pay")),
        ({"type": "sepa_debit", "sepa_debit": {"last4": "3000", "mandate": "mandate_1"}},
         PaymentMethod(type="sepa_debit", last4="3000")),
        ({"type": "klarna", "klarna": {}}, PaymentMethod(type="klarna")),
        (None, None),
    ],
)  # fmt: skip
def test_the_method_is_read_from_the_charges_payment_method_details(
    details: dict[str, Any] | None, method: PaymentMethod | None
) -> None:
    assert facts_of(_session(details)) == PaymentFacts(method, None)


def test_tax_comes_from_total_details_with_its_breakdown_per_rate() -> None:
    entry = {"amount": 380, "rate": VAT, "taxability_reason": None, "taxable_amount": 2000}
    facts = facts_of(_session(None, 380, [entry]))
    line = TaxLine(
        display_name="VAT", percentage=Decimal("19.0"), inclusive=True, amount=380, taxable_amount=2000,
        jurisdiction="DE",
    )  # fmt: skip
    assert facts.tax == Tax(amount=380, lines=(line,))
    assert facts_of(_session(None, 380)).tax == Tax(amount=380)  # breakdown not expanded: the sum only
    assert facts_of(_session(None, 0, [])).tax is None  # no tax charged


def test_a_success_carries_the_facts_and_other_outcomes_do_not() -> None:
    order = domain.Order.model_validate(an_order())
    session = domain.new_session(order, 1, "http://shop.test", order.payment_deadline)  # type: ignore[arg-type]
    session = dataclasses.replace(session, session_id="cs_1", status=domain.SessionStatus.OPEN)
    facts = PaymentFacts(PaymentMethod(type="sepa_debit", last4="3000"), Tax(amount=192))
    pending = domain.parse_event(_event("checkout.session.completed", "unpaid"))
    effect = domain.apply_session_event(session, pending, facts=facts)
    [event] = effect.events
    assert event.routing_key == "payment.pending"
    assert not hasattr(event, "payment_method")
    settled = domain.parse_event(_event("checkout.session.async_payment_succeeded", "paid"))
    [event] = domain.apply_session_event(effect.session, settled, facts=facts).events
    assert (event.payment_method, event.tax) == (facts.method, facts.tax)  # type: ignore[attr-defined]


def _event(type_: str, payment_status: str) -> bytes:
    obj = {"id": "cs_1", "status": "complete", "payment_status": payment_status, "amount_total": 1200,
           "currency": "eur", "payment_intent": "pi_1"}  # fmt: skip
    return json.dumps(
        {"id": f"evt_{type_}", "object": "event", "type": type_, "data": {"object": obj}}
    ).encode()


async def test_the_webhook_asks_stripe_once_per_success_and_publishes_what_it_says(client, deps) -> None:  # type: ignore[no-untyped-def]
    session_id = (await checkout(client, deps, an_order())).json()["session_id"]
    method = PaymentMethod(type="card", brand="visa", last4="4242")
    fake_stripe(deps).facts[session_id] = PaymentFacts(method, None)
    event = completed(session_id)
    assert (await post_event(client, event)).json()["note"] == "payment.succeeded"
    [envelope] = store(deps).state.outbox
    assert (envelope.data.payment_method, envelope.data.tax) == (method, None)
    assert fake_stripe(deps).facts_asked == [session_id]


async def test_stripe_unreachable_for_the_facts_stores_nothing_and_answers_503(client, deps) -> None:  # type: ignore[no-untyped-def]
    """Stripe delivers the webhook again (and the sweep lists it): the invoice is never short of them."""
    session_id = (await checkout(client, deps, an_order())).json()["session_id"]
    fake_stripe(deps).facts_fail_with.append(StripeUnavailable("APIConnectionError: down"))
    event = completed(session_id)
    refused = await post_event(client, event)
    assert refused.status_code == 503
    assert (store(deps).state.events, store(deps).state.outbox) == ({}, [])
    assert (await post_event(client, event)).json()["note"] == "payment.succeeded"


def test_tax_rates_go_on_every_line_of_the_session() -> None:
    order = domain.Order.model_validate(an_order(items=[an_order()["items"][0]] * 2, total=2400))
    session = domain.new_session(order, 1, "http://s", order.payment_deadline, ("txr_1", "txr_2"))  # type: ignore[arg-type]
    assert [item["tax_rates"] for item in session.request["line_items"]] == [["txr_1", "txr_2"]] * 2
    plain = domain.new_session(order, 1, "http://s", order.payment_deadline)  # type: ignore[arg-type]
    assert all("tax_rates" not in item for item in plain.request["line_items"])


def test_payments_tax_rates_reads_ids_and_refuses_anything_else() -> None:
    settings = Settings(_env_file=None, payments_tax_rates=" txr_1AbC, txr_2 ")
    assert settings.tax_rates == ("txr_1AbC", "txr_2")
    assert Settings(_env_file=None).tax_rates == ()
    with pytest.raises(ValidationError, match="payments_tax_rates"):
        Settings(_env_file=None, payments_tax_rates="19%")
