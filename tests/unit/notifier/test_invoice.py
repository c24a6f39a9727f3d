"""The PDF invoice a shop can send: seller, number, payment method, tax lines, currencies, names.

The PDF's text is extracted with pypdf, as a reader (or an accountant's tool) would read it.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from messaging.broker import Permanent
from messaging.events.orders import OrderLine
from messaging.events.payments import PaymentMethod, Tax, TaxLine
from messaging.testing import InMemoryBroker
from notifier import domain
from notifier.domain import EmailState, InvoiceNumber, Order, Payment, Seller
from notifier.handlers import HANDLERS
from notifier.invoice import build_invoice
from notifier.mailer import TransientMailError
from notifier.render import Composer
from notifier.settings import Settings
from tests.support.events import paid
from tests.support.notifier import make_deps, parsed

BUS = InMemoryBroker()

SELLER = Seller("Zoë's Crème Shop GmbH", ("Müllerstraße 7", "10115 Berlin", "Germany"), "DE123456789")
NUMBER = InvoiceNumber("INV-", 42)
PAID_AT = datetime(2026, 3, 4, 15, 6, tzinfo=UTC)
CUSTOMER = "zoë.señor@example.com"
PRODUCT = "Crème brûlée Łódź Ωμέγα"
VISA = PaymentMethod(type="card", brand="visa", last4="4242")
SEPA = PaymentMethod(type="sepa_debit", last4="3000")
VAT_19 = TaxLine(
    display_name="VAT", percentage=Decimal("19"), inclusive=True, amount=399, taxable_amount=2101
)


def order(currency: str = "eur", unit: int = 1250) -> Order:
    line = OrderLine(product_id="p", name=PRODUCT, quantity=2, unit_price=unit, line_total=2 * unit)
    return Order(uuid.UUID(int=0xABCDEF12 << 96), CUSTOMER, (line,), 2 * unit, currency, "paid", PAID_AT)


def payment(total: int = 2500, currency: str = "eur", **extra) -> Payment:  # type: ignore[no-untyped-def]
    return Payment(total, currency, PAID_AT, "cs_test_inv", "pi_test_inv", **extra)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def invoice_text(o: Order, p: Payment, seller: Seller = SELLER) -> str:
    return pdf_text(build_invoice(o, p, seller, NUMBER))


def test_the_invoice_names_the_seller_its_number_the_buyer_and_the_order() -> None:
    text = invoice_text(order(), payment(method=VISA))
    for expected in (
        "Invoice INV-000042",
        "Zoë's Crème Shop GmbH",
        "Müllerstraße 7",
        "10115 Berlin",
        "Germany",
        "Tax ID: DE123456789",
        "Invoice number: INV-000042",
        "Invoice date: 2026-03-04",
        "Order: ABCDEF12",
        f"Billed to: {CUSTOMER}",
        PRODUCT,
    ):
        assert expected in text
    assert text.index("Zoë's Crème Shop GmbH") < text.index("Billed to")  # seller block first
    assert "?" not in text  # nothing replaced by a glyph the font lacks


def test_without_address_or_tax_id_the_seller_block_is_only_the_name() -> None:
    text = invoice_text(order(), payment(), Seller("paybus shop"))
    assert "paybus shop" in text
    assert "Tax ID" not in text


@pytest.mark.parametrize(
    ("method", "printed"),
    [
        (VISA, "by Visa •••• 4242 through Stripe."),
        (SEPA, "by SEPA Direct Debit •••• 3000 through Stripe."),
        (PaymentMethod(type="card", brand="amex", last4="0005", wallet="apple_pay"),
         "by American Express •••• 0005 (Apple Pay) through Stripe."),
        (PaymentMethod(type="us_bank_account", last4="6789"),
         "by ACH Direct Debit •••• 6789 through Stripe."),
        (PaymentMethod(type="klarna"), "by Klarna through Stripe."),
    ],
)  # fmt: skip
def test_the_invoice_says_how_stripe_reports_it_was_paid(method: PaymentMethod, printed: str) -> None:
    text = invoice_text(order(), payment(method=method))
    assert f"Paid €25.00 on 2026-03-04 15:06 UTC {printed}" in text
    assert "by card" not in text or method.type == "card"


def test_a_payment_whose_method_stripe_did_not_report_claims_none() -> None:
    text = invoice_text(order(), payment())
    assert "Paid €25.00 on 2026-03-04 15:06 UTC through Stripe." in text
    assert "card" not in text


def test_included_tax_is_listed_under_the_total_with_its_rate() -> None:
    tax = Tax(amount=399, lines=(VAT_19,))
    text = invoice_text(order(), payment(method=SEPA, tax=tax))
    assert "Total €25.00" in text
    assert "including VAT 19% €3.99" in text
    assert "Subtotal" not in text
    assert text.index("Total €25.00") < text.index("including VAT 19%")


def test_tax_added_on_top_shows_subtotal_each_rate_and_the_total_paid() -> None:
    sales = TaxLine(
        display_name="Sales tax", percentage=Decimal("8.875"), amount=222, jurisdiction="New York"
    )
    text = invoice_text(
        order("usd"), payment(currency="usd", method=VISA, tax=Tax(amount=222, lines=(sales,)))
    )
    assert "Subtotal $25.00" in text
    assert "Sales tax 8.875% (New York) $2.22" in text
    assert "Total $27.22" in text
    assert "Paid $27.22 on" in text


def test_a_tax_amount_without_its_lines_is_still_shown() -> None:
    text = invoice_text(order(), payment(tax=Tax(amount=399)))
    assert "including tax €3.99" in text


@pytest.mark.parametrize(
    ("currency", "unit", "line_total", "tax_text"),
    [
        ("eur", 1250, "€25.00", "€3.99"),
        ("jpy", 1250, "¥2,500", "¥399"),
        ("kwd", 12500, "KWD 25.000", "KWD 0.399"),
    ],
)
def test_amounts_and_tax_carry_the_currency_symbol_or_code(
    currency: str, unit: int, line_total: str, tax_text: str
) -> None:
    tax = Tax(amount=399, lines=(VAT_19,))
    text = invoice_text(order(currency, unit), payment(2 * unit, currency, method=VISA, tax=tax))
    assert f"Total {line_total}" in text
    assert f"including VAT 19% {tax_text}" in text
    assert f"Paid {line_total} on" in text


def test_the_receipt_e_mail_names_the_method_and_the_invoice_number() -> None:
    composer = Composer("Zoë's shop <shop@example.com>", SELLER)
    mail = domain.receipt(order(), payment(method=SEPA), NUMBER)
    msg = parsed(composer.compose(mail))
    for part in (msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()):
        assert "by SEPA Direct Debit •••• 3000." in part
        assert "Your invoice INV-000042 is attached" in part
        assert "Zoë's Crème Shop GmbH" in part or "Zoë&#39;s Crème Shop GmbH" in part
    [attachment] = list(msg.iter_attachments())
    assert "Invoice number: INV-000042" in pdf_text(attachment.get_content())


def test_a_receipt_without_its_invoice_number_is_not_composed() -> None:
    with pytest.raises(ValueError, match="no invoice number"):
        Composer("shop@example.com").compose(domain.receipt(order(), payment()))


def test_the_seller_comes_from_the_shop_settings() -> None:
    settings = Settings(
        _env_file=None,
        shop_name="Zoë's Crème Shop GmbH",
        shop_address="Müllerstraße 7\\n10115 Berlin\nGermany",  # a written \n (shell, .env) or a line break
        shop_tax_id=" DE123456789 ",
        shop_invoice_prefix="2026/",
    )
    assert settings.seller() == SELLER
    assert settings.shop_invoice_prefix == "2026/"
    assert Settings(_env_file=None).seller() == Seller("paybus shop")


@pytest.mark.parametrize(
    "bad",
    [
        {"shop_name": ""},
        {"shop_name": "Shop\nBcc: x"},
        {"shop_tax_id": "DE1\r\n2"},
        {"shop_address": "\n".join(f"line {i}" for i in range(7))},
        {"shop_invoice_prefix": "INV 2026"},
        {"shop_invoice_prefix": "X" * 21},
    ],
)
def test_bad_shop_settings_are_refused_with_the_variable_named(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **bad)
    assert next(iter(bad)) in str(caught.value)


# --- numbering, through the handlers on the in-memory repository ---------------------------------


def _attached_text(message) -> str:  # type: ignore[no-untyped-def]
    [attachment] = list(message.iter_attachments())
    return pdf_text(attachment.get_content())


async def test_receipts_get_consecutive_numbers_and_a_repeat_prints_the_same_one() -> None:
    deps, repo, mailer = make_deps(invoice_series="T-")
    first, second = paid(uuid.uuid4()), paid(uuid.uuid4())
    await BUS.deliver(first, HANDLERS, deps)
    await BUS.deliver(second, HANDLERS, deps)
    await BUS.deliver(first, HANDLERS, deps)  # redelivered: same number, no second e-mail
    numbers = [str(row.invoice) for row in repo.emails.values()]
    assert numbers == ["T-000001", "T-000002"]
    assert ["Invoice number: T-000001" in _attached_text(m) for m in mailer.sent] == [True, False]
    assert "Invoice number: T-000002" in _attached_text(mailer.sent[1])


async def test_a_send_that_failed_is_retried_with_the_number_its_intent_took() -> None:
    deps, repo, mailer = make_deps()
    mailer.fail_with.append(TransientMailError("451 try later"))
    receipt = paid(uuid.uuid4())
    with pytest.raises(TransientMailError):
        await BUS.deliver(receipt, HANDLERS, deps)
    await BUS.deliver(paid(uuid.uuid4()), HANDLERS, deps)  # another receipt meanwhile: number 2
    await BUS.deliver(receipt, HANDLERS, deps)  # the retry
    texts = [_attached_text(m) for m in mailer.sent]
    assert "Invoice number: INV-000002" in texts[0]
    assert "Invoice number: INV-000001" in texts[1]
    assert repo.counters == {"INV-": 3}


async def test_a_receipt_the_mail_server_refuses_keeps_its_number_and_the_next_one_follows() -> None:
    deps, repo, mailer = make_deps()
    refused = paid(uuid.uuid4(), email="bob@example.com\nBcc: eve@example.com")  # refused when composed
    with pytest.raises(Permanent):
        await BUS.deliver(refused, HANDLERS, deps)
    await BUS.deliver(paid(uuid.uuid4()), HANDLERS, deps)
    rows = [(row.state, str(row.invoice)) for row in repo.emails.values()]
    assert rows == [(EmailState.FAILED, "INV-000001"), (EmailState.SENT, "INV-000002")]  # issued, no gap
    assert "Invoice number: INV-000002" in _attached_text(mailer.sent[0])
