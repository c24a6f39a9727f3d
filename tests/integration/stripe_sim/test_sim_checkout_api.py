"""Checkout Sessions through the official SDK: create, retrieve, list, expire, line items, errors."""

import time
from typing import Any, cast

import pytest
import stripe

from stripe_sim.testing import RunningSim, running_sim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params, sim_settings

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)


def test_create_returns_a_stripe_shaped_open_session(client: stripe.StripeClient, sim: RunningSim) -> None:
    session = client.v1.checkout.sessions.create(session_params())

    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert session.livemode is False
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3499, 3499, "usd")
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"order_id": "order-123"}
    assert session.client_reference_id == "order-123"
    assert session.customer_email == "ada@example.com"
    assert session.payment_intent is None
    assert session.url == f"{sim.base_url}/pay/{session.id}"
    assert abs(session.created - time.time()) < 5
    assert session.expires_at - session.created == 24 * 3600


def test_retrieve_expands_line_items_and_lists_them(client: stripe.StripeClient) -> None:
    created = client.v1.checkout.sessions.create(session_params())

    session = client.v1.checkout.sessions.retrieve(created.id, {"expand": ["line_items"]})
    items = client.v1.checkout.sessions.line_items.list(created.id, {"limit": 1})

    assert session.line_items is not None
    assert [(li.description, li.quantity, li.amount_total) for li in session.line_items.data] == [
        ("Blue mug", 2, 3000),
        ("Tea sampler", 1, 499),
    ]
    first = session.line_items.data[0]
    assert first.object == "item"
    assert first.price is not None
    assert (first.price.object, first.price.unit_amount, first.price.type) == ("price", 1500, "one_time")
    assert items.to_dict()["object"] == "list"
    assert items.has_more is True
    assert items.url == f"/v1/checkout/sessions/{created.id}/line_items"
    assert [li.description for li in items.auto_paging_iter()] == ["Blue mug", "Tea sampler"]


async def test_async_sdk_creates_lists_and_filters(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    first = await aclient.v1.checkout.sessions.create_async(session_params())
    second = await aclient.v1.checkout.sessions.create_async(session_params())
    paid = await sim.pay(second.id)

    newest_first = await aclient.v1.checkout.sessions.list_async({"limit": 1})
    by_status = await aclient.v1.checkout.sessions.list_async({"status": "open"})
    by_pi = await aclient.v1.checkout.sessions.list_async({"payment_intent": paid["payment_intent"]})

    assert [s.id for s in newest_first.data] == [second.id]
    assert newest_first.has_more is True
    assert [s.id for s in by_status.data] == [first.id]
    assert [s.id for s in by_pi.data] == [second.id]
    page2 = await aclient.v1.checkout.sessions.list_async({"starting_after": second.id})
    assert [s.id for s in page2.data] == [first.id]
    page0 = await aclient.v1.checkout.sessions.list_async({"ending_before": first.id})
    assert [s.id for s in page0.data] == [second.id]


async def test_expire_only_while_open(aclient: stripe.StripeClient) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())

    expired = await aclient.v1.checkout.sessions.expire_async(session.id)
    with pytest.raises(stripe.InvalidRequestError) as again:
        await aclient.v1.checkout.sessions.expire_async(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    assert again.value.http_status == 400
    assert "status of `open`" in again.value.user_message
    events = await aclient.v1.events.list_async({"type": "checkout.session.expired"})
    assert [e.data.object["id"] for e in events.data] == [session.id]


def test_unknown_session_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.retrieve("cs_test_nope")

    assert err.value.http_status == 404
    assert err.value.code == "resource_missing"
    assert err.value.param == "session"
    error = cast(dict[str, Any], err.value.json_body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"] == "No such checkout.session: 'cs_test_nope'"


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"line_items": None}, "line_items", "parameter_missing"),
        ({"mode": None}, "mode", "parameter_missing"),
        (
            {
                "line_items": [
                    {"price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "x"}}}
                ]
            },
            "line_items[0][quantity]",
            "parameter_missing",
        ),
        (
            {
                "line_items": [
                    {
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": "ten",
                            "product_data": {"name": "x"},
                        },
                        "quantity": 1,
                    }
                ]
            },
            "line_items[0][price_data][unit_amount]",
            "parameter_invalid_integer",
        ),
        ({"surprise": "yes"}, "surprise", "parameter_unknown"),
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at", "parameter_invalid"),
    ],
)
def test_invalid_create_is_a_400_with_the_param(
    client: stripe.StripeClient, params: dict[str, object], param: str, code: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(session_params(**params))

    assert (err.value.http_status, err.value.param, err.value.code) == (400, param, code)


async def test_expires_at_must_be_30_minutes_ahead_like_stripe() -> None:
    settings = sim_settings("off", stripe_sim_min_expires_in=1800)
    soon = int(time.time()) + 600
    async with running_sim(settings) as running:
        http = stripe.HTTPXClient()
        client = stripe.StripeClient(
            running.api_key, base_addresses={"api": running.base_url}, http_client=http
        )
        with pytest.raises(stripe.InvalidRequestError) as err:
            await client.v1.checkout.sessions.create_async(session_params(expires_at=soon))
        ok = await client.v1.checkout.sessions.create_async(
            session_params(expires_at=int(time.time()) + 3600)
        )
        await http.close_async()  # type: ignore[no-untyped-call]

    assert err.value.param == "expires_at"
    assert "at least 30 minutes" in err.value.user_message
    assert ok.status == "open"


def test_bad_or_missing_api_key_is_401(sim: RunningSim) -> None:
    bad = stripe.StripeClient("sk_live_whatever1234", base_addresses={"api": sim.base_url})

    with pytest.raises(stripe.AuthenticationError) as err:
        bad.v1.checkout.sessions.list()

    assert err.value.http_status == 401
    assert "Invalid API Key provided" in err.value.user_message


async def test_missing_key_and_unknown_url_look_like_stripe(sim: RunningSim) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        no_key = await http.get("/v1/checkout/sessions")
        unknown = await http.get("/v1/nothing_here", headers={"Authorization": f"Bearer {sim.api_key}"})
        basic = await http.get("/v1/events", auth=(sim.api_key, ""))

    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in no_key.json()["error"]["message"]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nothing_here)")
    assert basic.status_code == 200
    assert basic.headers["request-id"].startswith("req_")
