"""Pay (303 to Checkout), the completed page that follows the order until paid, and the canceled page."""

import re
import uuid

import httpx
import pytest

from gateway.schemas import Order, OrderLine, SessionStatus
from gateway.upstreams import UpstreamUnavailable
from tests.support.gateway import BROWSER, InMemoryUpstreams
from tests.support.html import check_page

LINES = [OrderLine(product_id="blue-mug", name="Blue mug", quantity=1, unit_price=1500, line_total=1500)]


@pytest.fixture
def order(upstreams: InMemoryUpstreams) -> Order:
    return upstreams.add_order("ada@example.com", LINES)


async def _session_of(client: httpx.AsyncClient, order_id: uuid.UUID) -> str:
    response = await client.post("/payment/process/", data={"order_id": str(order_id)})
    assert response.status_code == 303
    return str(response.headers["location"]).rsplit("/", 1)[1]


async def test_pay_redirects_to_the_checkout_page(client, order):
    response = await client.post("/payment/process/", data={"order_id": str(order.id)})
    assert response.status_code == 303
    assert re.fullmatch(r"https://stripe\.test/pay/cs_test_[0-9a-f]{32}", response.headers["location"])
    again = await client.post("/payment/process/", data={"order_id": str(order.id)})
    assert again.headers["location"] == response.headers["location"]  # the open session is reused


async def test_paying_a_paid_order_shows_a_friendly_409_page(client, upstreams, order):
    upstreams.set_status(order.id, "paid")
    response = await client.post("/payment/process/", data={"order_id": str(order.id)}, headers=BROWSER)
    assert response.status_code == 409
    page = check_page(response.text)
    assert "This order cannot be paid" in page.text
    assert "order is paid" in page.text
    assert page.all("a", href=f"/orders/{order.id}")


@pytest.mark.parametrize("data", [{"order_id": str(uuid.uuid4())}, {"order_id": "x"}, {}])
async def test_paying_an_unknown_order_is_a_404_page(client, data):
    response = await client.post("/payment/process/", data=data)
    assert response.status_code == 404
    assert "We could not find that order" in check_page(response.text).text


async def test_completed_page_reloads_itself_while_the_order_is_pending(client, order):
    session_id = await _session_of(client, order.id)
    response = await client.get("/payment/completed/", params={"session_id": session_id})
    assert response.status_code == 200
    page = check_page(response.text)
    assert "Confirming your payment" in page.text
    assert page.meta_refresh() == f"1; url=/payment/completed/?session_id={session_id}&attempt=1"
    assert page.all("div", role="status")
    assert "Blue mug" in page.text
    assert not page.all("script")  # following the order needs no JavaScript


async def test_the_reload_interval_backs_off_and_is_capped(client, order):
    session_id = await _session_of(client, order.id)
    delays = []
    for attempt in (0, 4, 5, 9, 500, "junk"):
        html = (await client.get(f"/payment/completed/?session_id={session_id}&attempt={attempt}")).text
        delays.append(str(check_page(html).meta_refresh()).split(";")[0])
    assert delays == ["1", "3", "5", "30", "30", "1"]


async def test_completed_page_shows_paid_once_the_webhook_has_landed(client, upstreams, order):
    session_id = await _session_of(client, order.id)
    before = check_page((await client.get(f"/payment/completed/?session_id={session_id}")).text)
    upstreams.set_status(order.id, "paid")
    after = check_page((await client.get(f"/payment/completed/?session_id={session_id}&attempt=1")).text)
    assert before.meta_refresh() is not None
    assert after.meta_refresh() is None
    assert "Thank you: your order is paid" in after.text
    assert "paid" in after.all("strong")[0]["class"]


async def test_a_delayed_payment_says_the_bank_is_still_processing(client, upstreams, order):
    session_id = await _session_of(client, order.id)
    upstreams.sessions[session_id] = upstreams.sessions[session_id].model_copy(update={"status": "complete"})
    page = check_page((await client.get(f"/payment/completed/?session_id={session_id}")).text)
    assert "Your bank is still processing the payment" in page.text
    assert page.meta_refresh() is not None


async def test_a_failed_payment_stops_reloading_and_offers_to_pay_again(client, upstreams, order):
    session_id = await _session_of(client, order.id)
    upstreams.set_status(order.id, "payment_failed")
    page = check_page((await client.get(f"/payment/completed/?session_id={session_id}")).text)
    assert page.meta_refresh() is None
    assert "The payment did not go through" in page.text
    assert page.all("form", action="/payment/process/")


@pytest.mark.parametrize("query", ["", "?session_id=", "?session_id=cs_unknown", "?session_id=../../etc"])
async def test_completed_page_without_a_known_session_is_a_404_page(client, upstreams, query):
    response = await client.get(f"/payment/completed/{query}")
    assert response.status_code == 404
    assert "We could not find that payment" in check_page(response.text).text


async def test_completed_page_for_a_session_whose_order_vanished_is_a_404_page(client, upstreams):
    upstreams.sessions["cs_lost"] = SessionStatus(
        session_id="cs_lost", order_id=uuid.uuid4(), status="complete", payment_status="paid"
    )
    assert (await client.get("/payment/completed/?session_id=cs_lost")).status_code == 404


async def test_canceled_page_links_back_to_the_order(client, order):
    session_id = await _session_of(client, order.id)
    for query in (f"order_id={order.id}", f"session_id={session_id}"):
        response = await client.get(f"/payment/canceled/?{query}")
        assert response.status_code == 200
        page = check_page(response.text)
        assert "Payment canceled" in page.text
        assert page.all("a", href=f"/orders/{order.id}"), query


@pytest.mark.parametrize(
    "query",
    ["", "?order_id=nope", f"?order_id={uuid.uuid4()}", "?session_id=cs_unknown", "?session_id=%3Cb%3E"],
)
async def test_canceled_page_without_a_known_order_links_to_the_shop(client, query):
    page = check_page((await client.get(f"/payment/canceled/{query}")).text)
    assert "open your order from the link in your e-mail" in page.text
    assert page.all("a", href="/")


async def test_canceled_page_still_renders_when_payments_is_down(client, upstreams):
    upstreams.failure = UpstreamUnavailable("payments", "payments is unreachable")
    response = await client.get("/payment/canceled/?session_id=cs_x")
    assert response.status_code == 200
    assert "Payment canceled" in check_page(response.text).text


# What each page must say, and must never say, for each status orders reports (issue 15, item 5).
TRUTH = {
    "pending": ("Your order is not paid yet.", ["is paid", "No money was taken", "refunded"]),
    "payment_failed": ("the last payment attempt did not go through", ["is paid", "refunded"]),
    "paid": ("Your order is paid", ["No money was taken", "not paid", "was canceled"]),
    "refunded": ("went back to you", ["No money was taken", "not paid", "Pay"]),
    "canceled": ("It can no longer be paid", ["No money was taken", "is paid", "Pay"]),
}


@pytest.mark.parametrize("status", list(TRUTH))
async def test_canceled_page_says_what_is_true_of_the_order_now(client, upstreams, order, status):
    """Two tabs on one session: tab 1 pays, tab 2 cancels; the page reads the order, not the button."""
    session_id = await _session_of(client, order.id)
    upstreams.set_status(order.id, status)
    if status == "refunded":
        upstreams.orders[order.id] = upstreams.orders[order.id].model_copy(update={"refunded_amount": 1500})
    says, never = TRUTH[status]
    for query in (f"order_id={order.id}", f"session_id={session_id}"):
        response = await client.get(f"/payment/canceled/?{query}")
        assert response.status_code == 200
        page = check_page(response.text)
        assert says in page.text, query
        for claim in never:
            assert claim not in page.text.replace("Payment canceled", ""), (status, claim)
        assert page.all("strong", **{"class": f"status status-{status}"})
        assert page.all("a", href=f"/orders/{order.id}")
        assert bool(page.all("form", action="/payment/process/")) == (status in ("pending", "payment_failed"))


async def test_canceled_page_for_a_paid_order_names_the_amount_and_no_pay_button(client, upstreams, order):
    upstreams.set_status(order.id, "paid")
    page = check_page((await client.get(f"/payment/canceled/?order_id={order.id}")).text)
    assert "We received €15.00 on" in page.text
    assert "a receipt is on its way to ada@example.com" in page.text
    assert not page.all("button")


async def test_canceled_page_claims_nothing_when_orders_cannot_be_asked(client, upstreams, order):
    upstreams.set_status(order.id, "paid")
    upstreams.failure = UpstreamUnavailable("orders", "orders is unreachable")
    response = await client.get(f"/payment/canceled/?order_id={order.id}")
    assert response.status_code == 200
    page = check_page(response.text)
    assert "We could not check your order just now" in page.text
    assert "No money was taken" not in page.text
    assert "not paid" not in page.text
    assert page.all("a", href=f"/orders/{order.id}")


async def test_canceled_page_past_the_deadline_offers_no_payment(client, upstreams):
    late = upstreams.add_order("ada@example.com", LINES, payment_deadline="2020-01-01T00:00:00Z")
    page = check_page((await client.get(f"/payment/canceled/?order_id={late.id}")).text)
    assert "Your order is not paid yet." in page.text
    assert "The time to pay this order has run out." in page.text
    assert not page.all("form", action="/payment/process/")


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("paid", "Thank you: your order is paid"),
        ("refunded", "This order was refunded"),
        ("canceled", "This order was canceled"),
        ("payment_failed", "The payment did not go through"),
        ("pending", "Confirming your payment"),
    ],
)
async def test_completed_page_says_what_is_true_of_the_order_now(client, upstreams, order, status, says):
    session_id = await _session_of(client, order.id)
    upstreams.set_status(order.id, status)
    page = check_page((await client.get(f"/payment/completed/?session_id={session_id}")).text)
    assert says in page.text
    assert page.all("strong", **{"class": f"status status-{status}"})
    assert (page.meta_refresh() is not None) == (status == "pending")


async def test_canceled_page_for_an_unpaid_order_links_back_to_try_again(client, order):
    page = check_page((await client.get(f"/payment/canceled/?order_id={order.id}")).text)
    [link] = page.all("a", href=f"/orders/{order.id}")
    assert page.all("button")  # Pay, right here
    assert "Return to your order to try again" in page.text
    assert link["href"] == f"/orders/{order.id}"


async def test_completed_page_of_a_second_payment_says_it_is_refunded_not_thank_you(client, upstreams, order):
    """Issue 15: the customer who paid a second session comes back to this page; the order is paid by
    the first one, and this payment is refunded in full: the page says so (payments tells which)."""
    session_id = await _session_of(client, order.id)
    upstreams.set_status(order.id, "paid")
    upstreams.sessions[session_id] = upstreams.sessions[session_id].model_copy(
        update={
            "status": "complete",
            "payment_status": "paid",
            "amount": 1500,
            "currency": "eur",
            "second_payment": True,
        }
    )
    page = check_page((await client.get(f"/payment/completed/?session_id={session_id}")).text)
    assert "Your order was already paid" in page.text
    assert "this payment of €15.00 is refunded to you in full" in page.text
    assert "Thank you" not in page.text
    assert page.meta_refresh() is None


async def test_a_paid_order_whose_refund_failed_reads_paid_with_what_stays_refunded(client, upstreams, order):
    """A refund that failed takes the order back to paid (issue 15): both pages say paid, and the amount
    that stays refunded."""
    session_id = await _session_of(client, order.id)
    upstreams.set_status(order.id, "paid")
    upstreams.orders[order.id] = upstreams.orders[order.id].model_copy(update={"refunded_amount": 500})
    completed = check_page((await client.get(f"/payment/completed/?session_id={session_id}")).text)
    canceled = check_page((await client.get(f"/payment/canceled/?order_id={order.id}")).text)
    for page in (completed, canceled):
        assert "paid" in page.text
        assert "Refunded so far: €5.00." in page.text
        assert "was refunded" not in page.text
