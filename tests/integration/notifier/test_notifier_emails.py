"""Each event's e-mail as the SMTP server receives it: recipient, subject, text, HTML, PDF invoice."""

from __future__ import annotations

import io

from pypdf import PdfReader

from messaging.events.orders import OrderCanceled, OrderPaymentFailed
from messaging.events.payments import PaymentRefunded
from tests.support.events import order_created, order_event, paid, payment
from tests.support.notifier_live import to


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_order_created_sends_a_confirmation_with_lines_total_and_order_link(stand, mailbox) -> None:
    created = order_created("ann@example.com")
    await stand.publish(created)
    mail = await mailbox.wait_for_one(to("ann@example.com"), timeout=10)
    order_id = created.data.order_id
    ref = str(order_id)[:8].upper()
    assert mail.to == ("ann@example.com",)
    assert mail.from_ == "shop@example.com"
    assert mail.subject == f"We received your order {ref}"
    assert mail.message_id == f"<confirmation.{order_id}@paybus>"
    assert "2 x Mug <b> @ €12.50 = €25.00" in mail.text
    assert "Total: €44.99" in mail.text
    assert f"http://shop.test/orders/{order_id}" in mail.text
    assert "Mug &lt;b&gt;" in mail.html
    assert "<b>" not in mail.html
    assert f'href="http://shop.test/orders/{order_id}"' in mail.html
    assert mail.attachments == ()


async def test_order_paid_sends_a_receipt_with_the_pdf_invoice(stand, mailbox) -> None:
    created = order_created("ben@example.com")
    await stand.publish(created)
    await mailbox.wait_for(to("ben@example.com"), count=1, timeout=10)  # paid comes later, in life too
    await stand.publish(paid(created.data.order_id, email="ben@example.com"))
    [_, receipt] = await mailbox.wait_for(to("ben@example.com"), count=2, timeout=10)
    ref = str(created.data.order_id)[:8].upper()
    assert receipt.subject == f"Payment received for order {ref}: your invoice"
    assert "payment of €44.99" in receipt.text
    assert "payment of <strong>€44.99</strong>" in receipt.html
    [pdf] = receipt.attachments
    assert (pdf.content_type, pdf.filename) == ("application/pdf", f"invoice-{ref}.pdf")
    text = _pdf_text(pdf.payload)
    for line in (
        "Mug <b> 2 €12.50 €25.00",
        "Book & Co 1 €19.99 €19.99",
        "Total €44.99",
        "ben@example.com",
        "cs_test_1",
        "pi_test_1",
    ):
        assert line in text


async def test_payment_failed_refund_and_cancel_each_send_their_email(stand, mailbox) -> None:
    paid = order_created("cat@example.com")
    dropped = order_created("dan@example.com")
    order_id = paid.data.order_id
    await stand.publish(paid)
    await stand.publish(dropped)
    failed = order_event(
        OrderPaymentFailed, paid, "payment_failed", checkout_session_id="cs_test_1", reason="card declined"
    )
    await stand.publish(failed)
    await stand.publish(payment(PaymentRefunded, order_id, amount=1000))
    data = dropped.data
    await stand.publish(order_event(OrderCanceled, dropped, "canceled", reason="payment deadline passed"))
    mails = await mailbox.wait_for(to("cat@example.com"), count=3, timeout=10)
    [failed] = [m for m in mails if m.subject.startswith("Payment for order")]
    [refund] = [m for m in mails if m.subject.startswith("Refund issued")]
    assert "did not go through (card declined)" in failed.text
    assert f'href="http://shop.test/orders/{order_id}"' in failed.html
    assert "€10.00 of €44.99 refunded in total so far" in refund.text
    [_, cancel] = await mailbox.wait_for(to("dan@example.com"), count=2, timeout=10)
    assert cancel.subject == f"Order {str(data.order_id)[:8].upper()} canceled"
    assert "was canceled (payment deadline passed)" in cancel.text
    assert "was canceled (payment deadline passed)" in cancel.html
    rows = await stand.drain(consumed=5)
    assert sorted(r["kind"] for r in rows) == sorted(
        ["confirmation", "confirmation", "payment_failed.cs_test_1", "refund.1000", "canceled"]
    )
    assert {r["state"] for r in rows} == {"sent"}
