"""notifier: the PDF invoice attached to a payment receipt (fpdf2, with Noto Sans embedded: invoice_font).

The font is regular weight only (fpdf2 would re-instance the variable font's bold on every document,
seconds each): bold is drawn with a stroke.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fpdf import FPDF
from fpdf.enums import TextMode, XPos, YPos

from messaging.events.payments import Tax, TaxLine
from messaging.money import format_money as money
from notifier.domain import InvoiceNumber, Order, Payment, Seller, method_label
from notifier.invoice_font import font_file

_FAMILY = "NotoSans"
_COLUMNS = ((95.0, "Item", "L"), (20.0, "Qty", "R"), (35.0, "Unit price", "R"), (40.0, "Amount", "R"))
_ROW = 7.0


@contextmanager
def _style(pdf: FPDF, style: str, size: float) -> Iterator[None]:
    """The font at `size`; "B": the regular face drawn filled and stroked, to look bold."""
    pdf.set_font(_FAMILY, size=size)
    if "B" not in style:
        yield
        return
    with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=size * 0.012):
        yield


def invoice_filename(order: Order) -> str:
    return f"invoice-{order.ref}.pdf"


def build_invoice(order: Order, payment: Payment, seller: Seller, number: InvoiceNumber) -> bytes:
    """The seller, the invoice number, order lines, totals and tax, how and when it was paid, as PDF."""
    pdf = FPDF(format="A4")
    pdf.add_font(_FAMILY, fname=font_file())
    pdf.set_creation_date(payment.paid_at)  # same bytes on every retry of the same receipt
    pdf.set_title(f"Invoice {number}")
    pdf.set_author(seller.name)
    pdf.add_page()
    _header(pdf, order, payment, seller, number)
    _lines(pdf, order, payment.tax)
    _payment(pdf, payment)
    return bytes(pdf.output())


def _text_line(pdf: FPDF, text: str, *, size: float = 10, style: str = "") -> None:
    with _style(pdf, style, size):
        pdf.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _header(pdf: FPDF, order: Order, payment: Payment, seller: Seller, number: InvoiceNumber) -> None:
    _text_line(pdf, f"Invoice {number}", size=18, style="B")
    pdf.ln(2)
    _text_line(pdf, seller.name, style="B")
    for line in seller.address:
        _text_line(pdf, line)
    if seller.tax_id:
        _text_line(pdf, f"Tax ID: {seller.tax_id}")
    pdf.ln(3)
    _text_line(pdf, f"Invoice number: {number}")
    _text_line(pdf, f"Invoice date: {payment.paid_at:%Y-%m-%d}")
    _text_line(pdf, f"Order: {order.ref} ({order.id})")
    _text_line(pdf, f"Billed to: {order.email}")
    pdf.ln(4)


def _row(pdf: FPDF, cells: tuple[str, ...], *, style: str = "") -> None:
    with _style(pdf, style, 10):
        for (width, _, align), text in zip(_COLUMNS, cells, strict=True):
            pdf.cell(width, _ROW, text, border="B", align=align)
    pdf.ln(_ROW)


def _sum(pdf: FPDF, label: str, amount: str, *, style: str = "", size: float = 10) -> None:
    with _style(pdf, style, size):
        pdf.cell(150, 7, label, align="R")
        pdf.cell(40, 7, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rate(line: TaxLine) -> str:
    """'VAT 19%', 'Sales tax 8.875% (California)'."""
    text = line.display_name
    if line.percentage is not None:
        text += f" {line.percentage.normalize():f}%"
    return f"{text} ({line.jurisdiction})" if line.jurisdiction else text


def _lines(pdf: FPDF, order: Order, tax: Tax | None) -> None:
    """The lines, then the totals: tax added on top is listed above the total, included tax below it."""
    _row(pdf, tuple(title for _, title, _ in _COLUMNS), style="B")
    for line in order.lines:
        unit, amount = money(line.unit_price, order.currency), money(line.line_total, order.currency)
        _row(pdf, (line.name, str(line.quantity), unit, amount))
    _totals(pdf, order.total, order.currency, tax)
    pdf.ln(4)


def _totals(pdf: FPDF, subtotal: int, currency: str, tax: Tax | None) -> None:
    rates = tax.lines if tax is not None else ()
    added = [rate for rate in rates if not rate.inclusive]
    if added:
        _sum(pdf, "Subtotal", money(subtotal, currency))
        for rate in added:
            _sum(pdf, _rate(rate), money(rate.amount, currency))
    _sum(pdf, "Total", money(subtotal + _added(tax), currency), style="B", size=11)
    for rate in rates:
        if rate.inclusive:
            _sum(pdf, f"including {_rate(rate)}", money(rate.amount, currency))
    if tax is not None and not rates and tax.amount:
        _sum(pdf, "including tax", money(tax.amount, currency))


def _added(tax: Tax | None) -> int:
    """Tax charged on top of the order's prices (none when prices include it, as EU shops price)."""
    return sum(line.amount for line in tax.lines if not line.inclusive) if tax is not None else 0


def _payment(pdf: FPDF, payment: Payment) -> None:
    paid = money(payment.amount + _added(payment.tax), payment.currency)
    how = f"by {method_label(payment.method)} " if payment.method is not None else ""
    _text_line(pdf, f"Paid {paid} on {payment.paid_at:%Y-%m-%d %H:%M} UTC {how}through Stripe.")
    _text_line(pdf, f"Stripe checkout session: {payment.checkout_session_id}", size=9)
    if payment.payment_intent_id:
        _text_line(pdf, f"Stripe payment intent: {payment.payment_intent_id}", size=9)
