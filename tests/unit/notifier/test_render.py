"""Templates: text and HTML parts per kind, HTML autoescaped, the PDF invoice with lines and total."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from messaging.events.orders import OrderLine
from notifier import domain
from notifier.domain import InvoiceNumber, Order, Payment, Seller
from notifier.invoice import build_invoice
from notifier.render import Composer
from tests.support.notifier import parsed

ORDER = Order(
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "bob@example.com",
    (
        OrderLine(
            product_id="p1",
            name="Mug <script>alert(1)</script>",
            quantity=2,
            unit_price=1250,
            line_total=2500,
        ),
        OrderLine(product_id="p2", name="Book & Co", quantity=1, unit_price=1999, line_total=1999),
    ),
    4499,
    "eur",
    "pending",
    datetime(2025, 1, 2, 9, 0, tzinfo=UTC),
    payment_deadline=datetime(2025, 1, 2, 10, 0, tzinfo=UTC),
)
PAYMENT = Payment(4499, "eur", datetime(2025, 1, 2, 9, 30, tzinfo=UTC), "cs_test_abc", "pi_test_def")
COMPOSER = Composer("paybus shop <shop@example.com>")
SELLER = Seller("paybus shop")
NUMBER = InvoiceNumber("INV-", 7)


def compose(mail: domain.Mail):  # type: ignore[no-untyped-def]
    return parsed(COMPOSER.compose(mail))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


ODD_ORDER = Order(  # a product and a currency sign the core PDF fonts cannot print
    ORDER.id,
    ORDER.email,
    (OrderLine(product_id="p", name="Café €5 日本", quantity=1, unit_price=500, line_total=500),),
    500,
    "eur",
    "paid",
    ORDER.created_at,
)


def test_confirmation_has_both_parts_the_lines_total_deadline_and_order_link() -> None:
    msg = compose(domain.confirmation(ORDER, "http://shop.test"))
    assert msg["To"] == "bob@example.com"
    assert msg["From"] == "paybus shop <shop@example.com>"
    assert msg["Subject"] == "We received your order 12345678"
    assert msg["Message-ID"] == f"<confirmation.{ORDER.id}@paybus>"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "2 x Mug <script>alert(1)</script> @ €12.50 = €25.00" in text  # text is not escaped
    assert "Book & Co" in text
    assert "Total: €44.99" in text
    assert "2025-01-02 10:00 UTC" in text
    assert f"http://shop.test/orders/{ORDER.id}" in text
    assert "<script>" not in html
    assert "Mug &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Book &amp; Co" in html
    assert f'href="http://shop.test/orders/{ORDER.id}"' in html
    assert not list(msg.iter_attachments())


def test_receipt_attaches_a_pdf_invoice_with_lines_total_date_and_stripe_reference() -> None:
    msg = compose(domain.receipt(ORDER, PAYMENT, NUMBER))
    text = msg.get_body(("plain",)).get_content()
    assert "payment of €44.99" in text
    assert "cs_test_abc / pi_test_def" in text
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "invoice-12345678.pdf"
    pdf = pdf_text(attachment.get_content())
    for expected in (
        "Invoice INV-000007",
        "Order: 12345678",
        "bob@example.com",
        "Book & Co",
        "€12.50",
        "€25.00",
        "€19.99",
        "Total €44.99",
        "2025-01-02",
        "cs_test_abc",
        "pi_test_def",
    ):
        assert expected in pdf


def test_invoice_bytes_are_the_same_on_every_retry_and_survive_non_latin_names() -> None:
    odd = ODD_ORDER
    first = build_invoice(odd, PAYMENT, SELLER, NUMBER)
    assert first == build_invoice(odd, PAYMENT, SELLER, NUMBER)
    assert "Café €5" in pdf_text(first)  # the embedded font has € (the core fonts printed "?")


@pytest.mark.parametrize(
    ("mail", "phrases"),
    [
        (
            domain.payment_failed(ORDER, "cs_9", "card declined", "http://shop.test"),
            ["did not go through (card declined)", "/orders/12345678-1234-5678-1234-567812345678"],
        ),
        (
            domain.canceled(ORDER, "payment deadline passed", "http://shop.test"),
            ["was canceled (payment deadline passed)"],
        ),
        (domain.refund(ORDER, 1000, 1000), ["€10.00", "of €44.99 refunded in total so far"]),
        (
            domain.duplicate_refund(ORDER, "cs_2", 4499),
            ["second payment of", "€44.99", "which was already paid", "refunded that second payment in full"],
        ),
        (
            domain.refund_reversed(
                ORDER, "re_1", 4499, "failed", "expired_or_canceled_card", second_payment=False
            ),
            ["€44.99", "the refund failed (expired or canceled card)", "counts as paid"],
        ),
        (
            domain.refund_reversed(ORDER, "re_2", 4499, "canceled", None, second_payment=True),
            ["refund of your second payment of", "€44.99", "the refund was canceled", "stays paid"],
        ),
    ],
)
def test_other_kinds_render_their_story_in_both_parts(mail, phrases) -> None:  # type: ignore[no-untyped-def]
    msg = compose(mail)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for phrase in phrases:
        assert phrase in text
        assert phrase in html
    assert msg["Subject"] == mail.subject


def test_a_line_break_in_the_address_is_refused_when_composing() -> None:
    bad = Order(ORDER.id, "bob@example.com\nBcc: eve@example.com", (), 1, "eur", "pending", ORDER.created_at)
    with pytest.raises(ValueError, match=r"linefeed|newline|CR|LF"):
        compose(domain.confirmation(bad, "http://s"))


def test_non_ascii_content_and_names_survive_the_classic_path() -> None:
    odd = ODD_ORDER
    outgoing = Composer("Café Zoë <shop@example.com>").compose(domain.receipt(odd, PAYMENT, NUMBER))
    assert not outgoing.smtputf8
    assert outgoing.data.isascii()  # 7bit on the wire: every relay takes it
    msg = parsed(outgoing)
    assert msg["From"].addresses[0].display_name == "Café Zoë"
    assert "Café €5 日本" in msg.get_body(("plain",)).get_content()
    assert "Café €5 日本" in msg.get_body(("html",)).get_content()
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content().startswith(b"%PDF")


def test_a_non_ascii_address_is_sent_with_smtputf8() -> None:
    intl = Order(ORDER.id, "josé@exämple.com", ORDER.lines, ORDER.total, "eur", "pending", ORDER.created_at)
    outgoing = COMPOSER.compose(domain.confirmation(intl, "http://s"))
    assert outgoing.smtputf8
    assert outgoing.recipients == ("josé@exämple.com",)
    assert parsed(outgoing)["To"] == "josé@exämple.com"


@pytest.mark.parametrize("address", ["bob@example.com, eve@example.com", "not an address", ""])
def test_anything_but_one_address_is_refused_when_composing(address: str) -> None:
    bad = Order(ORDER.id, address, (), 1, "eur", "pending", ORDER.created_at)
    with pytest.raises(ValueError, match="one plain e-mail address"):
        COMPOSER.compose(domain.confirmation(bad, "http://s"))
