"""Idempotency-Key: same key and params replay the first response; other params are rejected."""

from typing import Any, cast

import httpx
import pytest
import stripe

from stripe_sim.testing import RunningSim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)


def test_same_key_and_params_replays_the_same_session(client: stripe.StripeClient) -> None:
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "order-1-checkout"})
    second = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "order-1-checkout"})

    assert second.id == first.id
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.checkout.sessions.list().data) == 1


async def test_same_key_with_other_params_is_an_idempotency_error(aclient: stripe.StripeClient) -> None:
    await aclient.v1.checkout.sessions.create_async(session_params(), {"idempotency_key": "k-1"})

    with pytest.raises(stripe.IdempotencyError) as err:
        await aclient.v1.checkout.sessions.create_async(
            session_params(client_reference_id="other"), {"idempotency_key": "k-1"}
        )

    assert err.value.http_status == 400
    assert cast(dict[str, Any], err.value.json_body)["error"]["type"] == "idempotency_error"
    assert "same parameters" in err.value.user_message


async def test_replayed_refund_refunds_once(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    paid = await sim.pay(session.id)
    params: Any = {"payment_intent": str(paid["payment_intent"]), "amount": 500}

    one = await aclient.v1.refunds.create_async(params, {"idempotency_key": "refund-1"})
    two = await aclient.v1.refunds.create_async(params, {"idempotency_key": "refund-1"})

    assert one.id == two.id
    charge = await aclient.v1.charges.retrieve_async(one.charge)  # type: ignore[arg-type]
    assert charge.amount_refunded == 500


async def test_failed_validation_is_not_saved_and_other_endpoints_conflict(sim: RunningSim) -> None:
    auth = {"Authorization": f"Bearer {sim.api_key}", "Idempotency-Key": "k-2"}
    async with httpx.AsyncClient(base_url=sim.base_url, headers=auth) as http:
        invalid = await http.post("/v1/checkout/sessions", data={"mode": "payment"})
        created = await http.post(
            "/v1/checkout/sessions",
            data={
                "mode": "payment",
                "line_items[0][price_data][currency]": "eur",
                "line_items[0][price_data][unit_amount]": "250",
                "line_items[0][price_data][product_data][name]": "Pen",
                "line_items[0][quantity]": "4",
                "metadata[order_id]": "o-9",
                "expand[]": "line_items",
            },
        )
        other = await http.post("/v1/refunds", data={"payment_intent": "pi_x"})

    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "parameter_missing"
    assert created.status_code == 200
    body = created.json()
    assert (body["amount_total"], body["currency"], body["metadata"]) == (1000, "eur", {"order_id": "o-9"})
    assert body["line_items"]["data"][0]["quantity"] == 4
    assert "Idempotent-Replayed" not in created.headers
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
