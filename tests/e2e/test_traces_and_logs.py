"""One payment is one trace across the five processes, a redelivery included; no log line holds a secret.

The services run as processes and export their spans over OTLP to the session's collector
(tests/support/otlp.py), as they would to Jaeger.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.ids import random_ref
from tests.support.journeys import checkout, mail_with, paid_order, pay, place_order, status
from tests.support.tracing import Span, ancestors, render
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

# From the receipt's SMTP send up to the root: (kind, process) of each span on the way.
PAYMENT_HOPS = [
    ("CONSUMER", "notifier-worker"),  # notifier.orders process (order.paid): render, then send
    ("PRODUCER", "orders-worker"),  # orders' relay publishes order.paid with the stored context
    ("CONSUMER", "orders-worker"),  # orders.payments process (payment.succeeded): apply
    ("PRODUCER", "payments-worker"),  # payments' relay publishes payment.succeeded
    ("SERVER", "payments-api"),  # POST /webhook: the event and its outbox rows stored
    ("CLIENT", "gateway-api"),  # the gateway forwards the raw body over httpx
    ("SERVER", "gateway-api"),  # POST /payment/webhook/ from Stripe: no traceparent, the root
]


def _hops(chain: list[Span]) -> list[tuple[str, str]]:
    return [(s.kind, s.service) for s in chain if s.kind != "INTERNAL"]


def _receipt_trace(system, order_id: str) -> tuple[Span, list[Span]] | None:
    """The successful SMTP send of the order's receipt and its whole trace, once every span arrived."""
    spans = system.traces.snapshot()
    by_id = {s.span_id: s for s in spans}
    for send in spans:
        parent = by_id.get(send.parent_id or "")
        if send.name != "smtp send" or send.error or parent is None:
            continue
        if (
            parent.attributes.get("paybus.event_type"),
            parent.attributes.get("messaging.message.conversation_id"),
        ) != ("order.paid", order_id):
            continue
        try:
            chain = ancestors(spans, send)
        except KeyError:
            return None  # a process has not exported its part yet
        if chain[-1].parent_id is None:
            return send, system.traces.trace(send.trace_id)
    return None


async def test_one_payment_is_one_trace_from_the_stripe_webhook_to_the_receipts_smtp_send(system) -> None:
    email = f"{random_ref('traced')}@example.com"
    async with system.client() as client:
        order, _ = await paid_order(system, client, email)
    await eventually(lambda: mail_with(system, email, "payment received"), timeout=30)
    send, spans = await eventually(lambda: _receipt_trace(system, order["id"]), timeout=30)
    tree = render(spans)
    chain = ancestors(spans, send)
    assert _hops(chain) == PAYMENT_HOPS, tree
    root = chain[-1]
    assert (root.name, root.parent_id) == ("POST /payment/webhook/", None), tree
    assert {s.service for s in spans} >= {
        *("gateway-api", "payments-api", "payments-worker", "orders-worker", "notifier-worker")
    }, tree
    assert any(s.name == "email render" and s.parent_id == chain[0].span_id for s in spans), tree
    # every delivery of this payment's events is in this trace, and none of them failed
    deliveries = [s for s in spans if s.kind == "CONSUMER"]
    assert {s.attributes.get("paybus.event_type") for s in deliveries} >= {"payment.succeeded", "order.paid"}
    assert not [s for s in deliveries if s.error], tree


async def test_a_receipt_retried_after_a_smtp_451_stays_in_the_payments_trace(system) -> None:
    email = f"{random_ref('retried')}@example.com"
    async with system.client() as client, httpx.AsyncClient(base_url=system.mailbox, timeout=10) as box:
        order = await place_order(client, email)
        session = await checkout(client, order["id"])
        await eventually(lambda: mail_with(system, email, "we received your order"), timeout=30)
        fault = await box.post("/api/faults", json={"mode": "tempfail", "count": 1})
        assert fault.status_code == 200, fault.text
        await pay(system, session["session_id"], "succeeded")
        await eventually(lambda: status(client, order["id"], "paid"), timeout=30)
    await eventually(lambda: mail_with(system, email, "payment received"), timeout=60)
    send, spans = await eventually(lambda: _receipt_trace(system, order["id"]), timeout=30)
    tree = render(spans)
    chain = ancestors(spans, send)
    retried, retry_publish, failed = chain[0], chain[1], chain[2]
    assert (retried.kind, retried.attributes.get("paybus.attempt"), retried.error) == (
        "CONSUMER",
        2,
        False,
    ), tree
    assert (retry_publish.kind, retry_publish.service) == ("PRODUCER", "notifier-worker"), tree
    assert (failed.kind, failed.attributes.get("paybus.attempt"), failed.error) == ("CONSUMER", 1, True), tree
    assert failed.attributes.get("paybus.outcome") == "retry", tree
    assert any(s.name == "smtp send" and s.error and s.parent_id == failed.span_id for s in spans), tree
    assert _hops(chain[2:]) == PAYMENT_HOPS, tree  # above the retry, the same path as any payment


def _configured_secrets(env: dict[str, str]) -> dict[str, str]:
    database, amqp = urlsplit(env["DATABASE_URL"]), urlsplit(env["AMQP_URL"])
    found = {
        name: env[name]
        for name in ("STRIPE_SECRET_KEY", "SERVICE_TOKEN", "NOTIFIER_SMTP_PASSWORD", "STRIPE_WEBHOOK_SECRET")
    }
    found["DATABASE_URL password"] = database.password or ""
    # guest's password is its name: what must not show is the URL with it, user:password@host
    found["AMQP_URL credentials"] = f"{amqp.username}:{amqp.password}@"
    assert all(found.values()), found  # the fixture set every one of them
    return found


async def test_no_log_line_of_the_run_holds_a_secret_and_the_receipts_line_names_its_trace(system) -> None:
    email = f"{random_ref('logged')}@example.com"  # one whole payment, even when this test runs alone
    async with system.client() as client:
        order, _ = await paid_order(system, client, email)
    await eventually(lambda: mail_with(system, email, "payment received"), timeout=30)
    send, _ = await eventually(lambda: _receipt_trace(system, order["id"]), timeout=30)

    def receipt_line() -> dict | None:
        text = (system.logs / "notifier-worker.log").read_text(errors="replace")
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        sent = [x for x in lines if x["message"].startswith("sent <receipt.") and order["id"] in x["message"]]
        return sent[0] if sent else None

    line = await eventually(receipt_line, timeout=10)
    assert (line["trace_id"], line["correlation_id"], line["event_type"]) == (
        send.trace_id,
        order["id"],
        "order.paid",
    )
    logs = sorted(system.logs.glob("*.log"))
    assert {p.stem for p in logs} >= {"gateway-api", "payments-api", "payments-worker", "orders-worker"}
    for path in logs:
        text = path.read_text(errors="replace")
        leaked = [name for name, value in _configured_secrets(system.env).items() if value in text]
        assert not leaked, f"{path.name} logs {leaked}"
