"""The hosted checkout page: renders the order, pays by card or delayed method, cancels; no JavaScript."""

import httpx
import pytest
import stripe

from stripe_sim.testing import RunningSim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params
from tests.support.waiting import eventually

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)


async def test_page_shows_items_total_and_plain_forms(aclient: stripe.StripeClient) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())

    async with httpx.AsyncClient() as http:
        page = await http.get(str(session.url))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in ("Blue mug", "\u00d7 2", "$30.00", "Tea sampler", "$4.99", "$34.99", "ada@example.com"):
        assert text in html
    assert "<script" not in html
    assert f'action="/pay/{session.id}"' in html
    for action in ("card", "delayed_succeeded", "delayed_failed", "cancel"):
        assert f'value="{action}"' in html


async def _submit(
    aclient: stripe.StripeClient, sim: RunningSim, form: dict[str, str]
) -> tuple[stripe.checkout.Session, httpx.Response]:
    """A new session, and the answer to its hosted page's form posted with `form` as a browser posts it."""
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        return session, await http.post(f"/pay/{session.id}", data=form)


async def test_pay_by_card_redirects_to_success_url_with_the_session_id(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session, paid = await _submit(aclient, sim, {"action": "card", "email": "bob@example.com"})
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        again = await http.get(f"/pay/{session.id}")

    assert paid.status_code == 303
    assert paid.headers["location"] == f"http://shop.test/payment/completed/?session_id={session.id}"
    done = await aclient.v1.checkout.sessions.retrieve_async(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.customer_details is not None
    assert done.customer_details.email == "bob@example.com"
    assert "already complete" in again.text
    assert 'value="card"' not in again.text


async def test_cancel_redirects_and_leaves_the_session_open(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session, canceled = await _submit(aclient, sim, {"action": "cancel"})

    assert canceled.status_code == 303
    assert canceled.headers["location"] == "http://shop.test/payment/canceled/"
    assert (await aclient.v1.checkout.sessions.retrieve_async(session.id)).status == "open"


async def test_delayed_method_from_the_page_completes_unpaid_then_settles(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session, paid = await _submit(aclient, sim, {"action": "delayed_failed"})
    unpaid = await aclient.v1.checkout.sessions.retrieve_async(session.id)

    assert paid.status_code == 303
    assert (unpaid.status, unpaid.payment_status) == ("complete", "unpaid")
    failed = await eventually(lambda: _events(aclient, "checkout.session.async_payment_failed"))
    assert failed[0].data.object["id"] == session.id


async def _events(aclient: stripe.StripeClient, type_: str) -> list[stripe.Event]:
    return list((await aclient.v1.events.list_async({"type": type_})).data)


async def test_expired_and_unknown_sessions_show_a_clear_message(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    await aclient.v1.checkout.sessions.expire_async(session.id)

    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        expired = await http.get(f"/pay/{session.id}")
        pay_late = await http.post(f"/pay/{session.id}", data={"action": "card"})
        unknown = await http.get("/pay/cs_test_unknown")

    assert expired.status_code == 200
    assert "expired" in expired.text
    assert 'value="card"' not in expired.text
    assert pay_late.status_code == 409
    assert "expired" in pay_late.text
    assert unknown.status_code == 404
    assert "No such checkout session" in unknown.text
