"""The stand-in reports tax and payment methods as Stripe does, through the official SDK.

Tax Rates on line items (inclusive or added on top) show in the session's totals and, when expanded, in
`total_details.breakdown`; a charge's `payment_method_details` names the card (Visa 4242) or, for a
delayed payment in euros, the SEPA debit (IBAN ending 3000) with its mandate. Every object is checked
against the pinned SDK's types.
"""

from typing import Any

import pytest
import stripe

from stripe_sim.testing import RunningSim
from tests.support.stripe_shapes import problems
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)
EXPAND = ["payment_intent.latest_charge", "total_details.breakdown"]


def _params(currency: str, rates: list[str], unit: int = 1190, quantity: int = 2) -> Any:
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": currency, "unit_amount": unit, "product_data": {"name": "Crème"}},
                "quantity": quantity,
                "tax_rates": rates,
            }
        ],
        "customer_email": "zoë@example.com",
        "success_url": "http://shop.test/ok",
    }


async def _rate(client: stripe.StripeClient, percentage: str, inclusive: bool, **extra: str) -> str:
    params: Any = {"display_name": "VAT", "percentage": percentage, "inclusive": inclusive, **extra}
    return (await client.v1.tax_rates.create_async(params)).id


async def _expanded(client: stripe.StripeClient, session_id: str) -> dict[str, Any]:
    session = await client.v1.checkout.sessions.retrieve_async(session_id, {"expand": EXPAND})
    body = session.to_dict()
    assert problems(body) == []
    return body


async def test_an_inclusive_rate_keeps_the_total_and_is_broken_down_per_rate(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    vat = await _rate(aclient, "19", True, country="DE", jurisdiction="DE")
    session = await aclient.v1.checkout.sessions.create_async(_params("eur", [vat]))
    assert (session.amount_subtotal, session.amount_total) == (2380, 2380)
    assert session.total_details is not None
    assert session.total_details.amount_tax == 380  # 2380 / 1.19 = 2000 net
    await sim.pay(session.id, "succeeded")

    body = await _expanded(aclient, session.id)
    [line] = body["total_details"]["breakdown"]["taxes"]
    assert (line["amount"], line["taxable_amount"]) == (380, 2000)
    rate = line["rate"]
    assert (rate["id"], rate["display_name"], rate["percentage"], rate["inclusive"]) == (
        vat,
        "VAT",
        19.0,
        True,
    )
    assert problems(rate) == []
    card = body["payment_intent"]["latest_charge"]["payment_method_details"]
    assert (card["type"], card["card"]["brand"], card["card"]["last4"]) == ("card", "visa", "4242")


async def test_an_exclusive_rate_is_added_to_the_total(aclient: stripe.StripeClient) -> None:
    sales = await _rate(aclient, "8.875", False, jurisdiction="New York")
    session = await aclient.v1.checkout.sessions.create_async(_params("usd", [sales], unit=1000, quantity=1))
    assert (session.amount_subtotal, session.amount_total) == (1000, 1089)  # 88.75 rounded half up
    [item] = (await aclient.v1.checkout.sessions.line_items.list_async(session.id)).data
    assert (item.amount_subtotal, item.amount_tax, item.amount_total) == (1000, 89, 1089)


async def test_a_delayed_payment_in_euros_is_a_sepa_debit_with_its_mandate(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(_params("eur", []))
    await sim.pay(session.id, "delayed_succeeded")
    body = await _expanded(aclient, session.id)
    details = body["payment_intent"]["latest_charge"]["payment_method_details"]
    assert details["type"] == "sepa_debit"
    assert (details["sepa_debit"]["last4"], details["sepa_debit"]["country"]) == ("3000", "DE")
    assert details["sepa_debit"]["mandate"].startswith("mandate_")
    assert body["total_details"]["breakdown"] == {"discounts": [], "taxes": []}


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"line_items": [{"tax_rates": ["txr_nope"]}]}, "line_items[0][tax_rates][0]", "resource_missing"),
        ({"automatic_tax": {"enabled": True}}, "automatic_tax[enabled]", "parameter_invalid"),
    ],
)
async def test_an_unknown_tax_rate_or_automatic_tax_is_refused_with_the_param(
    aclient: stripe.StripeClient, params: dict[str, Any], param: str, code: str
) -> None:
    base = _params("eur", [])
    if "line_items" in params:
        base["line_items"][0] |= params.pop("line_items")[0]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await aclient.v1.checkout.sessions.create_async(base | params)
    assert (refused.value.param, refused.value.code) == (param, code)
    assert (await aclient.v1.checkout.sessions.list_async()).data == []  # nothing was created


@pytest.mark.parametrize(
    ("percentage", "message"), [("abc", "Invalid decimal"), ("120", "between 0 and 100")]
)
async def test_a_bad_percentage_is_refused(
    aclient: stripe.StripeClient, percentage: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError, match=message) as refused:
        await _rate(aclient, percentage, True)
    assert refused.value.param == "percentage"
    assert (await aclient.v1.tax_rates.list_async()).data == []
