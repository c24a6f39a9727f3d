"""The stand-in against the pinned SDK's request types: ui_mode values, valid parameters accepted and
ignored, unknown ones refused with Stripe's error shape."""

from typing import Any

import httpx
import pytest
import stripe
from stripe._request_options import RequestOptions
from stripe.params import RefundCreateParams, TaxRateCreateParams
from stripe.params.checkout import _session_create_params as create_params

from stripe_sim import params as accepted
from stripe_sim.testing import RunningSim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)
OPTIONS = set(RequestOptions.__annotations__)  # api_key, idempotency_key, ...: sent as headers


def _names(typed_dict: type) -> set[str]:
    return set(typed_dict.__annotations__) - OPTIONS


@pytest.mark.parametrize(
    ("ours", "sdk"),
    [
        (accepted.SESSION_CREATE, create_params.SessionCreateParams),
        (accepted.LINE_ITEM, create_params.SessionCreateParamsLineItem),
        (accepted.PRICE_DATA, create_params.SessionCreateParamsLineItemPriceData),
        (accepted.PRODUCT_DATA, create_params.SessionCreateParamsLineItemPriceDataProductData),
        (accepted.PAYMENT_INTENT_DATA, create_params.SessionCreateParamsPaymentIntentData),
        (accepted.ADAPTIVE_PRICING, create_params.SessionCreateParamsAdaptivePricing),
        (accepted.REFUND_CREATE, RefundCreateParams),
        (accepted.TAX_RATE_CREATE, TaxRateCreateParams),
        (accepted.AUTOMATIC_TAX, create_params.SessionCreateParamsAutomaticTax),
    ],
)
def test_accepted_parameters_are_the_pinned_sdks(ours: frozenset[str], sdk: type) -> None:
    assert set(ours) == _names(sdk)


def test_ui_modes_are_the_pinned_api_versions() -> None:
    hint = str(
        create_params.SessionCreateParams.__annotations__["ui_mode"]
    )  # NotRequired["Literal[...]|str"]
    listed = hint.split("Literal[")[1].split("]")[0]

    assert sorted(v.strip(" '") for v in listed.split(",")) == sorted(accepted.UI_MODES)


async def test_sessions_are_hosted_page_and_ui_mode_hosted_page_is_accepted(
    aclient: stripe.StripeClient,
) -> None:
    default = await aclient.v1.checkout.sessions.create_async(session_params())
    hosted = await aclient.v1.checkout.sessions.create_async(session_params(ui_mode="hosted_page"))

    assert (default.ui_mode, hosted.ui_mode) == ("hosted_page", "hosted_page")
    assert hosted.url is not None
    assert hosted.client_secret is None


@pytest.mark.parametrize(
    ("ui_mode", "message"),
    [
        ("hosted", "Invalid ui_mode: must be one of hosted_page, embedded_page, elements, or form"),
        ("embedded_page", "supports only ui_mode=hosted_page"),
    ],
)
async def test_other_ui_modes_are_refused_with_the_param(
    aclient: stripe.StripeClient, ui_mode: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        await aclient.v1.checkout.sessions.create_async(session_params(ui_mode=ui_mode))

    assert (err.value.http_status, err.value.param) == (400, "ui_mode")
    assert message in err.value.user_message


async def test_valid_parameters_the_stand_in_does_not_model_are_accepted(
    aclient: stripe.StripeClient,
) -> None:
    params = session_params(
        adaptive_pricing={"enabled": True},
        automatic_tax={"enabled": False},
        billing_address_collection="auto",
        phone_number_collection={"enabled": False},
        origin_context="web",
        payment_intent_data={"metadata": {"order_id": "order-123"}, "statement_descriptor_suffix": "MUGS"},
    )
    params["line_items"][0]["price_data"]["product_data"]["description"] = "Blue, 350 ml"
    params["line_items"][0]["price_data"]["tax_behavior"] = "exclusive"

    session = await aclient.v1.checkout.sessions.create_async(params)

    assert session.status == "open"
    assert session.adaptive_pricing is not None
    assert session.adaptive_pricing.enabled is True


@pytest.mark.parametrize(
    ("form", "param"),
    [
        ({"surprise": "yes"}, "surprise"),
        ({"adaptive_pricing[surprise]": "true"}, "adaptive_pricing[surprise]"),
        ({"line_items[0][surprise]": "1"}, "line_items[0][surprise]"),
    ],
)
async def test_truly_unknown_parameters_are_refused_like_stripe(
    sim: RunningSim, form: dict[str, str], param: str
) -> None:
    base = {
        "mode": "payment",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "100",
        "line_items[0][price_data][product_data][name]": "Mug",
        "line_items[0][quantity]": "1",
    }
    async with httpx.AsyncClient(base_url=sim.base_url, auth=(sim.api_key, "")) as http:
        response = await http.post("/v1/checkout/sessions", data=base | form)

    assert response.status_code == 400
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["param"]) == ("parameter_unknown", param)
    assert error["message"] == f"Received unknown parameter: {param}"
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/parameter-unknown"


async def test_a_refund_accepts_valid_parameters_it_does_not_model(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    paid = await sim.pay(session.id)

    refund = await aclient.v1.refunds.create_async(
        {"payment_intent": paid["payment_intent"], "amount": 100, "instructions_email": "ada@example.com"}
    )

    assert (refund.status, refund.amount) == ("succeeded", 100)
