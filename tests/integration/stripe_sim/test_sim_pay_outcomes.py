"""POST /_sim/checkout/sessions/{id}/pay: each outcome gives Stripe's event sequence and object states."""

import pytest
import stripe

from stripe_sim.testing import RunningSim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params
from tests.support.waiting import eventually

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)


async def _types(aclient: stripe.StripeClient, session_id: str) -> list[tuple[str, str]]:
    """(type, payment_status) of this session's checkout.session.* events, oldest first."""
    events = (await aclient.v1.events.list_async({"type": "checkout.session.*", "limit": 100})).data
    return [
        (e.type, e.data.object["payment_status"])
        for e in reversed(events)
        if e.data.object["id"] == session_id
    ]


async def test_card_payment_completes_paid_with_intent_and_charge(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())

    paid = await sim.pay(session.id, "succeeded")

    assert (paid["status"], paid["payment_status"], paid["url"]) == ("complete", "paid", None)
    assert await _types(aclient, session.id) == [("checkout.session.completed", "paid")]
    pi = await aclient.v1.payment_intents.retrieve_async(paid["payment_intent"])
    assert (pi.object, pi.status, pi.amount, pi.amount_received, pi.currency) == (
        "payment_intent",
        "succeeded",
        3499,
        3499,
        "usd",
    )
    assert pi.id.startswith("pi_")
    charge = await aclient.v1.charges.retrieve_async(str(pi.latest_charge))
    assert charge.id.startswith("ch_")
    assert (charge.status, charge.paid, charge.amount_refunded, charge.refunded) == (
        "succeeded",
        True,
        0,
        False,
    )


@pytest.mark.parametrize(
    ("outcome", "final", "final_status"),
    [
        ("delayed_succeeded", "checkout.session.async_payment_succeeded", "paid"),
        ("delayed_failed", "checkout.session.async_payment_failed", "unpaid"),
    ],
)
async def test_delayed_methods_complete_unpaid_then_send_the_async_event(
    aclient: stripe.StripeClient, sim: RunningSim, outcome: str, final: str, final_status: str
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())

    pending = await sim.pay(session.id, outcome)
    settled = await eventually(lambda: _settled(aclient, session.id))

    assert (pending["status"], pending["payment_status"]) == ("complete", "unpaid")
    assert settled == [("checkout.session.completed", "unpaid"), (final, final_status)]
    pi = await aclient.v1.payment_intents.retrieve_async(pending["payment_intent"])
    assert pi.status == ("succeeded" if final_status == "paid" else "requires_payment_method")


async def _settled(aclient: stripe.StripeClient, session_id: str) -> list[tuple[str, str]] | None:
    types = await _types(aclient, session_id)
    return types if len(types) == 2 else None


async def test_zero_delay_settles_within_the_pay_call(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    await sim.configure(async_payment_delay=0)
    session = await aclient.v1.checkout.sessions.create_async(session_params())

    await sim.pay(session.id, "delayed_succeeded")

    assert await _types(aclient, session.id) == [
        ("checkout.session.completed", "unpaid"),
        ("checkout.session.async_payment_succeeded", "paid"),
    ]


async def test_paying_twice_or_an_unknown_session_fails(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    import httpx

    session = await aclient.v1.checkout.sessions.create_async(session_params())
    await sim.pay(session.id)
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        twice = await http.post(f"/_sim/checkout/sessions/{session.id}/pay", data={"outcome": "succeeded"})
        unknown = await http.post("/_sim/checkout/sessions/cs_test_x/pay", data={"outcome": "succeeded"})
        bad = await http.post(f"/_sim/checkout/sessions/{session.id}/pay", data={"outcome": "maybe"})

    assert twice.status_code == 400
    assert twice.json()["error"]["code"] == "checkout_session_not_open"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "resource_missing"
    assert (bad.status_code, bad.json()["error"]["param"]) == (400, "outcome")
