"""notifier: the PDF invoice attached to a payment receipt (fpdf2, core fonts: cheap per payment)."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from notifier.domain import Order, Payment, money

SELLER = "paybus shop"
_COLUMNS = ((95.0, "Item", "L"), (20.0, "Qty", "R"), (35.0, "Unit price", "R"), (40.0, "Amount", "R"))
_ROW = 7.0


def _latin1(text: str) -> str:
    # The built-in PDF fonts cover Latin-1 only; embedding a TrueType font would cost far more per PDF.
    return text.encode("latin-1", errors="replace").decode("latin-1")


def invoice_filename(order: Order) -> str:
    return f"invoice-{order.ref}.pdf"


def build_invoice(order: Order, payment: Payment) -> bytes:
    """Order lines, totals, payment date and the Stripe reference, as PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(payment.paid_at)  # same bytes on every retry of the same receipt
    pdf.set_title(f"Invoice {order.ref}")
    pdf.set_author(SELLER)
    pdf.add_page()
    _header(pdf, order, payment)
    _lines(pdf, order)
    _payment(pdf, payment)
    return bytes(pdf.output())


def _text_line(pdf: FPDF, text: str, *, size: float = 10, style: str = "") -> None:
    pdf.set_font("Helvetica", style=style, size=size)
    pdf.cell(0, 6, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _header(pdf: FPDF, order: Order, payment: Payment) -> None:
    _text_line(pdf, f"Invoice {order.ref}", size=18, style="B")
    pdf.ln(2)
    _text_line(pdf, SELLER, style="B")
    _text_line(pdf, f"Order: {order.id}")
    _text_line(pdf, f"Billed to: {order.email}")
    _text_line(pdf, f"Date: {payment.paid_at:%Y-%m-%d}")
    pdf.ln(4)


def _row(pdf: FPDF, cells: tuple[str, ...], *, style: str = "") -> None:
    pdf.set_font("Helvetica", style=style, size=10)
    for (width, _, align), text in zip(_COLUMNS, cells, strict=True):
        pdf.cell(width, _ROW, _latin1(text), border="B", align=align)
    pdf.ln(_ROW)


def _lines(pdf: FPDF, order: Order) -> None:
    _row(pdf, tuple(title for _, title, _ in _COLUMNS), style="B")
    for line in order.lines:
        unit, amount = money(line.unit_price, order.currency), money(line.line_total, order.currency)
        _row(pdf, (line.name, str(line.quantity), unit, amount))
    pdf.set_font("Helvetica", style="B", size=11)
    pdf.cell(150, 9, "Total", align="R")
    pdf.cell(40, 9, money(order.total, order.currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _payment(pdf: FPDF, payment: Payment) -> None:
    paid = money(payment.amount, payment.currency)
    _text_line(pdf, f"Paid {paid} on {payment.paid_at:%Y-%m-%d %H:%M} UTC by card through Stripe.")
    _text_line(pdf, f"Stripe checkout session: {payment.checkout_session_id}", size=9)
    if payment.payment_intent_id:
        _text_line(pdf, f"Stripe payment intent: {payment.payment_intent_id}", size=9)
