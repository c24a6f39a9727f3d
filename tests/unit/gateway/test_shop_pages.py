"""The shop page, its order form, and an order's page: server-rendered, no JavaScript, escaped."""

import uuid

from gateway.schemas import OrderLine, Product
from tests.support.gateway import BROWSER
from tests.support.html import check_page

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def form(email: str = "ada@example.com", **quantities: str) -> dict[str, str]:
    return {"email": email} | {f"qty-{pid.replace('_', '-')}": q for pid, q in quantities.items()}


async def test_shop_page_lists_products_with_prices_and_a_labelled_form(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = check_page(response.text)
    assert "Blue mug" in page.text
    assert "€15.00" in page.text
    assert "€4.99" in page.text
    assert page.all("form", method="post", action="/shop/orders")
    assert page.label_text["qty-blue-mug"] == "Quantity of Blue mug"
    assert page.all("input", type="email", name="email", id="email")
    assert not page.all("script")


async def test_an_empty_catalogue_says_so(client, upstreams):
    upstreams.products = []
    page = check_page((await client.get("/")).text)
    assert "Nothing is on sale right now" in page.text
    assert not page.all("form")


async def test_ordering_from_the_form_redirects_to_the_new_order_page(client, upstreams):
    response = await client.post("/shop/orders", data=form(blue_mug="2", tea=""))
    assert response.status_code == 303
    order_id = uuid.UUID(response.headers["location"].removeprefix("/orders/"))
    order = upstreams.orders[order_id]
    assert [(line.product_id, line.quantity) for line in order.items] == [("blue-mug", 2)]

    page = check_page((await client.get(response.headers["location"])).text)
    assert "pending" in page.text
    assert "€30.00" in page.text
    assert page.all("input", type="hidden", name="order_id", value=str(order_id))
    assert page.all("form", method="post", action="/payment/process/")


async def test_form_mistakes_re_render_it_with_messages_and_what_was_typed(client, upstreams):
    response = await client.post("/shop/orders", data=form(email="ada.example.com", blue_mug="two", tea="1"))
    assert response.status_code == 422
    page = check_page(response.text)
    assert "Enter an e-mail address like name@example.com." in page.text
    assert "Enter a whole number from 0 to 100." in page.text
    assert page.all("input", id="email", value="ada.example.com", **{"aria-invalid": "true"})
    assert page.all("input", id="qty-blue-mug", value="two", **{"aria-describedby": "qty-blue-mug-error"})
    assert page.all("input", id="qty-tea", value="1")
    assert page.all("div", role="alert")
    assert upstreams.orders == {}


async def test_an_order_of_nothing_asks_to_choose_a_product(client, upstreams):
    page = check_page((await client.post("/shop/orders", data=form())).text)
    assert "Choose at least one product." in page.text
    assert upstreams.orders == {}


async def test_orders_422_messages_land_on_the_fields_they_are_about(client, upstreams):
    upstreams.products.append(Product(id="gone", name="Gone vase", price=100, currency="eur"))
    listed = list(upstreams.products)

    async def catalogue_without_checks():
        return listed

    upstreams.products = [p for p in listed if p.id != "gone"]  # orders no longer sells it
    upstreams.list_products = catalogue_without_checks
    response = await client.post("/shop/orders", data=form(gone="1", tea="1"))
    assert response.status_code == 422
    page = check_page(response.text)
    assert page.all("p", id="qty-gone-error")
    assert "Unknown product" in page.text


async def test_hostile_product_names_and_emails_are_escaped(client, upstreams):
    upstreams.products = [
        Product(id='x"><script>', name=HOSTILE, description=HOSTILE, price=1, currency="usd")
    ]
    shop = await client.get("/")
    assert "<script>" not in shop.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shop.text
    check_page(shop.text)

    order = upstreams.add_order(
        email=f"{HOSTILE}@example.com",
        lines=[OrderLine(product_id="x", name=HOSTILE, quantity=1, unit_price=1, line_total=1)],
    )
    for path in (f"/orders/{order.id}",):
        html = (await client.get(path)).text
        assert "<script>" not in html
        assert "<img" not in html
        check_page(html)

    again = await client.post("/shop/orders", data={"email": HOSTILE, 'qty-x"><script>': "1"})
    assert "<script>" not in again.text


async def test_the_order_page_offers_pay_only_while_payable(client, upstreams):
    lines = [OrderLine(product_id="tea", name="Tea sampler", quantity=1, unit_price=499, line_total=499)]
    cases = {
        "pending": ("Pay €4.99", True),
        "payment_failed": ("Pay again €4.99", True),
        "paid": ("Thank you", False),
        "canceled": ("This order was canceled", False),
        "refunded": ("Refunded", False),
    }
    for status, (text, pay) in cases.items():
        order = upstreams.add_order("ada@example.com", lines, status=status, refunded_amount=499)
        page = check_page((await client.get(f"/orders/{order.id}")).text)
        assert text in page.text, status
        assert bool(page.all("form", action="/payment/process/")) is pay, status


async def test_past_its_deadline_an_order_has_no_pay_button(client, upstreams):
    lines = [OrderLine(product_id="tea", name="Tea sampler", quantity=1, unit_price=499, line_total=499)]
    order = upstreams.add_order("ada@example.com", lines, payment_deadline="2020-01-01T00:00:00Z")
    page = check_page((await client.get(f"/orders/{order.id}")).text)
    assert "The time to pay this order has run out." in page.text
    assert not page.all("form", action="/payment/process/")


async def test_an_unknown_order_page_is_a_friendly_404(client):
    for order_id in (str(uuid.uuid4()), "not-an-id"):
        response = await client.get(f"/orders/{order_id}", headers=BROWSER)
        assert response.status_code == 404
        page = check_page(response.text)
        assert "We could not find that order" in page.text
