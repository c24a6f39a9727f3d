"""CPU per e-mail in the notifier: the PDF invoice alone, and a whole receipt composed to bytes.

The classic Django + Celery + WeasyPrint shop spends 0.36 CPU-seconds on its PDF invoice.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from benchmarks._support import Figure
from messaging.events.orders import OrderLine, OrderStatus
from notifier import domain
from notifier.domain import InvoiceNumber, Order, Payment
from notifier.invoice import build_invoice
from notifier.render import Composer

N = 200


def _cpu_ms(work: Callable[[], object]) -> float:
    work()  # fonts, templates and modules warm, as in a running worker
    started = time.process_time()
    for _ in range(N):
        work()
    return (time.process_time() - started) * 1000 / N


def run(runs: int) -> list[Figure]:
    now = datetime.now(UTC)
    lines = (
        OrderLine(product_id="p1", name="Mug", quantity=2, unit_price=1250, line_total=2500),
        OrderLine(product_id="p2", name="Book", quantity=1, unit_price=1999, line_total=1999),
    )
    order = Order(
        uuid.uuid4(), "bob@example.com", lines, 4499, "eur", OrderStatus.PAID, now, payment_deadline=now
    )
    payment = Payment(4499, "eur", now, "cs_test_a1", "pi_test_b2")
    composer = Composer("paybus shop <shop@example.com>")
    receipt, confirmation = (
        domain.receipt(order, payment, InvoiceNumber("INV-", 1)),
        domain.confirmation(order, "http://shop.test"),
    )
    parts = {
        "notifier_invoice_pdf_cpu_ms": lambda: build_invoice(
            order, payment, composer.seller, InvoiceNumber("INV-", 1)
        ),
        "notifier_receipt_with_pdf_cpu_ms": lambda: composer.compose(receipt),
        "notifier_confirmation_cpu_ms": lambda: composer.compose(confirmation),
    }
    figures = []
    for name, work in parts.items():
        rounds = [_cpu_ms(work) for _ in range(runs)]
        figures.append(Figure(name, statistics.median(rounds), "ms CPU", rounds))
    return figures
