"""notifier: the PDF invoice attached to a payment receipt (fpdf2, with Noto Sans embedded: invoice_font).

The font is regular weight only (fpdf2 would re-instance the variable font's bold on every document,
seconds each): bold is drawn with a stroke.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fpdf import FPDF
from fpdf.enums import TextMode, XPos, YPos

from messaging.money import format_money as money
from notifier.domain import Order, Payment
from notifier.invoice_font import font_file

SELLER = "paybus shop"
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


def build_invoice(order: Order, payment: Payment) -> bytes:
    """Order lines, totals, payment date and the Stripe reference, as PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.add_font(_FAMILY, fname=font_file())
    pdf.set_creation_date(payment.paid_at)  # same bytes on every retry of the same receipt
    pdf.set_title(f"Invoice {order.ref}")
    pdf.set_author(SELLER)
    pdf.add_page()
    _header(pdf, order, payment)
    _lines(pdf, order)
    _payment(pdf, payment)
    return bytes(pdf.output())


def _text_line(pdf: FPDF, text: str, *, size: float = 10, style: str = "") -> None:
    with _style(pdf, style, size):
        pdf.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _header(pdf: FPDF, order: Order, payment: Payment) -> None:
    _text_line(pdf, f"Invoice {order.ref}", size=18, style="B")
    pdf.ln(2)
    _text_line(pdf, SELLER, style="B")
    _text_line(pdf, f"Order: {order.id}")
    _text_line(pdf, f"Billed to: {order.email}")
    _text_line(pdf, f"Date: {payment.paid_at:%Y-%m-%d}")
    pdf.ln(4)


def _row(pdf: FPDF, cells: tuple[str, ...], *, style: str = "") -> None:
    with _style(pdf, style, 10):
        for (width, _, align), text in zip(_COLUMNS, cells, strict=True):
            pdf.cell(width, _ROW, text, border="B", align=align)
    pdf.ln(_ROW)


def _lines(pdf: FPDF, order: Order) -> None:
    _row(pdf, tuple(title for _, title, _ in _COLUMNS), style="B")
    for line in order.lines:
        unit, amount = money(line.unit_price, order.currency), money(line.line_total, order.currency)
        _row(pdf, (line.name, str(line.quantity), unit, amount))
    with _style(pdf, "B", 11):
        pdf.cell(150, 9, "Total", align="R")
        pdf.cell(40, 9, money(order.total, order.currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _payment(pdf: FPDF, payment: Payment) -> None:
    paid = money(payment.amount, payment.currency)
    _text_line(pdf, f"Paid {paid} on {payment.paid_at:%Y-%m-%d %H:%M} UTC by card through Stripe.")
    _text_line(pdf, f"Stripe checkout session: {payment.checkout_session_id}", size=9)
    if payment.payment_intent_id:
        _text_line(pdf, f"Stripe payment intent: {payment.payment_intent_id}", size=9)
