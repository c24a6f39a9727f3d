"""Every object the stand-in returns, checked against the pinned `stripe` SDK's generated resource types.

Sessions (open, paid, delayed, failed, expired, expanded), line items, payment intents, charges, refunds,
events and their webhook bodies, lists and errors: each one's non-optional fields present, each value of
the declared JSON type and enum, nested objects recursively, no key the SDK does not declare.
"""

import json
from typing import Any

import httpx
import pytest
import stripe
from stripe._error_object import ErrorObject

from stripe_sim import payment_shapes, shapes
from stripe_sim.testing import RunningSim
from tests.support.stripe_shapes import problems, resource_class
from tests.support.stripe_sim_live import Receiver, session_params
from tests.support.waiting import eventually

Obj = dict[str, Any]
FORM = {
    "mode": "payment",
    "line_items[0][price_data][currency]": "eur",
    "line_items[0][price_data][unit_amount]": "1500",
    "line_items[0][price_data][product_data][name]": "Blue mug",
    "line_items[0][quantity]": "2",
    "customer_email": "ada@example.com",
    "metadata[order_id]": "order-123",
    "payment_intent_data[metadata][order_id]": "order-123",
    "success_url": "http://shop.test/payment/completed/?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://shop.test/payment/canceled/",
    "expand[]": "line_items",
}


def _ok(response: httpx.Response) -> Obj:
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


async def _objects(sim: RunningSim, http: httpx.AsyncClient) -> list[Obj]:
    """Drive every path the stand-in has and keep each JSON object it answered with."""
    got: list[Obj] = []
    sessions = [_ok(await http.post("/v1/checkout/sessions", data=FORM)) for _ in range(4)]
    got += sessions
    for session, outcome in zip(sessions, ("succeeded", "delayed_succeeded", "delayed_failed"), strict=False):
        got.append(await sim.pay(session["id"], outcome))
    got.append(_ok(await http.post(f"/v1/checkout/sessions/{sessions[3]['id']}/expire")))
    await eventually(lambda: _settled(http), timeout=10)
    for session in sessions:
        path = f"/v1/checkout/sessions/{session['id']}"
        got.append(_ok(await http.get(path, params={"expand[]": ["line_items", "payment_intent"]})))
        got.append(_ok(await http.get(f"{path}/line_items")))
    got.append(_ok(await http.get("/v1/checkout/sessions", params={"limit": 100})))
    paid = got[-1]["data"][-1]
    pi = _ok(await http.get(f"/v1/payment_intents/{paid['payment_intent']}"))
    got += [pi, _ok(await http.get(f"/v1/charges/{pi['latest_charge']}"))]
    for amount in ({"amount": "500"}, {}):
        refund = _ok(await http.post("/v1/refunds", data={"payment_intent": pi["id"], **amount}))
        got += [refund, _ok(await http.get(f"/v1/refunds/{refund['id']}"))]
    got.append(_ok(await http.get("/v1/refunds")))
    got.append(_ok(await http.get(f"/v1/charges/{pi['latest_charge']}")))
    events = _ok(await http.get("/v1/events", params={"limit": 100}))
    got.append(events)
    got += [_ok(await http.get(f"/v1/events/{e['id']}")) for e in events["data"]]
    return got


async def _settled(http: httpx.AsyncClient) -> bool:
    params = {
        "types[]": ["checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed"]
    }
    return len((await http.get("/v1/events", params=params)).json()["data"]) == 2


async def test_every_object_matches_the_pinned_sdks_types(sim: RunningSim, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url, auth=(sim.api_key, "")) as http:
        objects = await _objects(sim, http)
        total = len(_ok(await http.get("/v1/events", params={"limit": 100}))["data"])
    await eventually(lambda: len(receiver.snapshot()) >= total)
    objects += [json.loads(r.body) for r in receiver.snapshot()]

    kinds = {o["object"] for o in objects} | {
        o["data"]["object"]["object"] for o in objects if o["object"] == "event"
    }
    assert kinds >= {"checkout.session", "list", "payment_intent", "charge", "refund", "event"}
    assert {o["type"] for o in objects if o["object"] == "event"} >= {
        "payment_intent.payment_failed",
        "charge.refunded",
        "checkout.session.expired",
        "checkout.session.async_payment_succeeded",
    }
    for obj in objects:
        assert problems(obj) == [], obj.get("id")
        if obj["object"] != "list":
            built = resource_class(obj).construct_from(obj, sim.api_key)
            assert (built["id"], set(built.to_dict())) == (obj["id"], set(obj))


async def test_a_failed_payment_intent_carries_a_whole_payment_method(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    await sim.pay(session.id, "delayed_failed")

    failed = (await eventually(lambda: _data(aclient, "payment_intent.payment_failed")))[0]
    intent = failed.data.object.to_dict()
    error = intent["last_payment_error"]
    method = error["payment_method"]

    assert problems(intent) == []
    assert (error["type"], error["code"], error["payment_method_type"]) == (
        "card_error",
        "insufficient_funds",
        "us_bank_account",
    )
    assert (method["object"], method["type"], method["livemode"]) == (
        "payment_method",
        "us_bank_account",
        False,
    )
    assert method["billing_details"]["email"] == "ada@example.com"
    assert isinstance(method["created"], int)


async def _data(aclient: stripe.StripeClient, type_: str) -> list[stripe.Event]:
    return list((await aclient.v1.events.list_async({"type": type_})).data)


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("GET", "/v1/checkout/sessions/cs_test_nope", None, 404),
        ("GET", "/v1/nothing_here", None, 404),
        ("POST", "/v1/checkout/sessions", {"surprise": "1"}, 400),
        ("POST", "/v1/checkout/sessions", {"mode": "payment"}, 400),
        ("POST", "/v1/checkout/sessions", {"mode": "payment", "ui_mode": "hosted"}, 400),
        ("POST", "/v1/refunds", {"payment_intent": "pi_nope"}, 400),
        ("GET", "/v1/events", {"limit": "1000"}, 400),
    ],
)
async def test_every_error_matches_the_sdks_error_object(
    sim: RunningSim, method: str, path: str, data: dict[str, str] | None, status: int
) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url, auth=(sim.api_key, "")) as http:
        if method == "GET":
            response = await http.get(path, params=data)
        else:
            response = await http.post(path, data=data)
        no_key = await http.get("/v1/events", auth=None)

    for answer, expected in ((response, status), (no_key, 401)):
        body = answer.json()
        assert answer.status_code == expected
        assert list(body) == ["error"]
        assert problems(body["error"], ErrorObject, "error") == []


def test_the_check_reports_the_drifts_it_exists_for() -> None:
    fields = {"id": "cs_test_1", "created": 1, "currency": "eur", "amount_total": 100, "expires_at": 2}
    fields |= {"url": None, "metadata": {}, "payment_method_types": ["card"]}
    session = shapes.session(fields) | {"ui_mode": "hosted", "surprise": 1}
    del session["created"]
    method = {"id": "pm_1", "object": "payment_method", "type": "card"}
    intent = payment_shapes.payment_intent(100, "eur", "card", {})
    intent["last_payment_error"] = {"type": "card_error", "payment_method": method}
    intent["amount"] = "100"

    assert sorted(problems(session)) == [
        "checkout.session.created: missing, the SDK's Session requires it",
        "checkout.session.surprise: not declared by the SDK's Session",
        "checkout.session.ui_mode: 'hosted' is not one of "
        "['elements', 'embedded_page', 'form', 'hosted_page']",
    ]
    assert sorted(problems(intent)) == [
        "payment_intent.amount: '100' is not int",
        *(
            f"payment_intent.last_payment_error.payment_method.{name}: "
            "missing, the SDK's PaymentMethod requires it"
            for name in ("billing_details", "created", "livemode")
        ),
    ]
