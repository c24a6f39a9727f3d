"""One amount, one text: the shop page, the order page, the e-mails and the PDF invoice print the same.

JPY (no decimals), EUR (two) and KWD (three), with non-ASCII product and customer names; the PDF's
text is extracted with pypdf, so a glyph the font lacks or a "?" from a Latin-1 font fails here.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from pypdf import PdfReader

from gateway.deps import Deps
from gateway.main import create_app
from gateway.schemas import Product
from messaging.events.orders import OrderLine
from notifier import domain
from notifier.domain import InvoiceNumber, Order, Payment, Seller
from notifier.invoice import build_invoice
from notifier.render import Composer
from tests.support.gateway import InMemoryUpstreams, gateway_settings
from tests.support.notifier import parsed

NAME = "Crème brûlée Ærø Łódź Ωμέγα"
CUSTOMER = "zoë.señor@example.com"
# currency, unit price in minor units, the unit price and the line total (2 of them) as printed
CASES = [
    ("jpy", 1250, "¥1,250", "¥2,500"),
    ("eur", 1250, "€12.50", "€25.00"),
    ("kwd", 12500, "KWD 12.500", "KWD 25.000"),
]
PAID_AT = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
SELLER = Seller("paybus shop")
NUMBER = InvoiceNumber("INV-", 1)


@pytest.fixture
def upstreams() -> InMemoryUpstreams:
    products = [Product(id=f"p-{c}", name=NAME, price=unit, currency=c) for c, unit, _, _ in CASES]
    return InMemoryUpstreams(products=products)


@pytest.fixture
async def client(upstreams: InMemoryUpstreams) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gateway_settings(), deps=Deps(upstreams=upstreams))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
        yield http


def notifier_order(currency: str, unit: int) -> Order:
    line = OrderLine(product_id="p", name=NAME, quantity=2, unit_price=unit, line_total=2 * unit)
    return Order(uuid.UUID(int=7), CUSTOMER, (line,), 2 * unit, currency, "paid", PAID_AT)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_the_shop_page_prints_each_price_in_the_one_style(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    for _, _, unit_text, _ in CASES:
        assert f"<p>{unit_text}</p>" in page
    assert NAME in page


@pytest.mark.parametrize(("currency", "unit", "unit_text", "total_text"), CASES)
async def test_page_e_mail_and_invoice_print_identical_amounts(
    client: httpx.AsyncClient,
    upstreams: InMemoryUpstreams,
    currency: str,
    unit: int,
    unit_text: str,
    total_text: str,
) -> None:
    line = OrderLine(product_id="p", name=NAME, quantity=2, unit_price=unit, line_total=2 * unit)
    gateway_order = upstreams.add_order(CUSTOMER, [line], currency=currency)
    page = (await client.get(f"/orders/{gateway_order.id}")).text

    order = notifier_order(currency, unit)
    payment = Payment(order.total, currency, PAID_AT, "cs_test_money")
    composer = Composer("paybus shop <shop@example.com>")
    bodies = []
    for mail in (domain.confirmation(order, "http://gw.test"), domain.receipt(order, payment, NUMBER)):
        message = parsed(composer.compose(mail))
        bodies += [message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()]
    invoice = pdf_text(build_invoice(order, payment, SELLER, NUMBER))

    for output in (page, *bodies, invoice):
        assert unit_text in output
        assert total_text in output
        assert NAME in output
    assert f"Total {total_text}" in invoice
    assert f"Paid {total_text} on" in invoice
    assert f"Billed to: {CUSTOMER}" in invoice
    assert "?" not in invoice  # nothing replaced by a font that lacks it
