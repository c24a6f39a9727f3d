"""Handlers on the in-memory repository and a fake mailer: once per (order, kind), failures sorted."""

from __future__ import annotations

import dataclasses

import asyncpg
import pytest

from messaging.broker import Permanent
from messaging.events.orders import OrderCanceled, OrderPaymentFailed, OrderPaymentParked, OrderRefunded
from messaging.events.payments import PaymentFailed, PaymentRefunded, PaymentSucceeded
from messaging.testing import InMemoryBroker
from notifier.domain import EmailState, OrderNotKnown
from notifier.handlers import HANDLERS
from notifier.mailer import PermanentMailError, TransientMailError
from notifier.services import SendInProgress
from tests.support.events import order_created, order_event, paid, payment
from tests.support.notifier import make_deps

BUS = InMemoryBroker()


async def test_order_created_sends_one_confirmation_even_when_delivered_twice() -> None:
    deps, repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    await BUS.deliver(created, HANDLERS, deps)
    await BUS.deliver(order_created(order_id=created.data.order_id), HANDLERS, deps)  # a new message id
    assert [m["Subject"] for m in mailer.sent] == [
        f"We received your order {str(created.data.order_id)[:8].upper()}"
    ]
    [row] = repo.emails.values()
    assert row.state is EmailState.SENT
    assert row.attempts == 1
    assert row.cause_id == str(created.id)


async def test_order_paid_before_order_created_sends_the_receipt_at_once_and_the_confirmation_after() -> None:
    """Order events carry the order: no join that waits for order.created (issue 14)."""
    deps, repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(paid(created.data.order_id), HANDLERS, deps)
    assert [m["Subject"].split(":")[0] for m in mailer.sent] == [
        f"Payment received for order {str(created.data.order_id)[:8].upper()}"
    ]
    await BUS.deliver(created, HANDLERS, deps)  # late: the confirmation still goes, the status stays paid
    assert len(mailer.sent) == 2
    order = repo.orders[created.data.order_id]
    assert (order.status, order.lines) == ("paid", created.data.lines)


async def test_a_refund_before_any_order_event_raises_and_leaves_no_claim() -> None:
    """payment.refunded (payments' fanout) names an order no order event has told of: retried later;
    the claim rolled back with the transaction, so the retry is not taken for a repeat."""
    deps, repo, mailer = make_deps()
    created = order_created()
    refund = payment(PaymentRefunded, created.data.order_id, amount=1000)
    with pytest.raises(OrderNotKnown):
        await BUS.deliver(refund, HANDLERS, deps)
    assert not mailer.sent
    assert not repo.emails
    assert not repo.inbox
    await BUS.deliver(created, HANDLERS, deps)
    await BUS.deliver(refund, HANDLERS, deps)  # the retry
    assert mailer.sent[-1]["Subject"].startswith("Refund issued")


async def test_receipt_carries_the_pdf_and_marks_the_order_paid() -> None:
    deps, repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    order_paid = paid(created.data.order_id)
    await BUS.deliver(order_paid, HANDLERS, deps)
    await BUS.deliver(order_paid, HANDLERS, deps)
    receipt = mailer.sent[-1]
    assert len(mailer.sent) == 2
    assert [a.get_content_type() for a in receipt.iter_attachments()] == ["application/pdf"]
    assert repo.orders[created.data.order_id].status == "paid"


async def test_a_transient_failure_raises_keeps_the_intent_and_the_redelivery_sends_once() -> None:
    deps, repo, mailer = make_deps()
    mailer.fail_with.append(TransientMailError("451 try later"))
    created = order_created()
    with pytest.raises(TransientMailError):
        await BUS.deliver(created, HANDLERS, deps)
    [row] = repo.emails.values()
    assert (row.state, row.attempts, row.last_error) == (EmailState.INTENDED, 1, "451 try later")
    await BUS.deliver(created, HANDLERS, deps)
    await BUS.deliver(created, HANDLERS, deps)
    assert len(mailer.sent) == 1
    assert (row.state, row.attempts, row.last_error) == (EmailState.SENT, 2, None)


async def test_a_permanent_rejection_is_recorded_failed_and_raised_as_permanent() -> None:
    deps, repo, mailer = make_deps()
    mailer.fail_with.append(PermanentMailError("550 no such user"))
    with pytest.raises(Permanent, match="550 no such user"):
        await BUS.deliver(order_created(), HANDLERS, deps)
    [row] = repo.emails.values()
    assert row.state is EmailState.FAILED
    assert deps.metrics.emails.labels("confirmation", "permanent")._value.get() == 1


async def test_an_address_with_a_line_break_is_a_permanent_failure_and_sends_nothing() -> None:
    deps, repo, mailer = make_deps()
    with pytest.raises(PermanentMailError, match="cannot build the message"):
        await BUS.deliver(order_created(email="a@example.com\r\nBcc: eve@example.com"), HANDLERS, deps)
    assert not mailer.sent
    assert [r.state for r in repo.emails.values()] == [EmailState.FAILED]


async def test_one_refund_gives_one_mail_whichever_events_announce_it() -> None:
    deps, repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    order_id = created.data.order_id
    partial = payment(PaymentRefunded, order_id, amount=1000)
    await BUS.deliver(partial, HANDLERS, deps)
    await BUS.deliver(payment(PaymentRefunded, order_id, amount=1000), HANDLERS, deps)  # Stripe repeat
    full = payment(PaymentRefunded, order_id, amount=4499, fully_refunded=True)
    await BUS.deliver(full, HANDLERS, deps)
    await BUS.deliver(order_event(OrderRefunded, created, "refunded", amount_refunded=4499), HANDLERS, deps)
    refunds = [m for m in mailer.sent if m["Subject"].startswith("Refund issued")]
    assert len(refunds) == 2  # the partial one and the rest
    assert {m["Message-ID"] for m in refunds} == {
        f"<refund.1000.{order_id}@paybus>",
        f"<refund.4499.{order_id}@paybus>",
    }
    assert repo.orders[order_id].status == "refunded"


async def test_payment_failed_mail_follows_orders_event_once_per_session_with_a_link_to_pay() -> None:
    deps, repo, mailer = make_deps()
    created = order_created()
    order_id = created.data.order_id
    await BUS.deliver(created, HANDLERS, deps)
    failed = order_event(
        OrderPaymentFailed, created, "payment_failed", checkout_session_id="cs_1", reason="card declined"
    )
    await BUS.deliver(failed, HANDLERS, deps)
    await BUS.deliver(failed, HANDLERS, deps)
    again = order_event(OrderPaymentFailed, created, "payment_failed", checkout_session_id="cs_1")
    await BUS.deliver(again, HANDLERS, deps)  # another message about the same session: the same e-mail
    assert f"http://shop.test/orders/{order_id}" in mailer.sent[-1].get_body(("plain",)).get_content()
    assert [m["Subject"].split(" ")[0] for m in mailer.sent] == ["We", "Payment"]
    assert repo.orders[order_id].status == "payment_failed"


async def test_payment_failed_from_payments_alone_sends_nothing_orders_decides() -> None:
    """A failure of a paid order's stale session: orders publishes nothing, so no e-mail goes."""
    deps, _repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    await BUS.deliver(payment(PaymentFailed, created.data.order_id, reason="declined"), HANDLERS, deps)
    assert len(mailer.sent) == 1  # the confirmation


async def test_order_canceled_sends_one_mail_and_repeats_change_nothing() -> None:
    deps, repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    canceled = order_event(OrderCanceled, created, "canceled", reason="payment deadline passed")
    await BUS.deliver(canceled, HANDLERS, deps)
    await BUS.deliver(canceled, HANDLERS, deps)
    ref = str(created.data.order_id)[:8].upper()
    assert [m["Subject"] for m in mailer.sent] == [f"We received your order {ref}", f"Order {ref} canceled"]
    assert repo.orders[created.data.order_id].status == "canceled"
    assert len(repo.inbox) == 2  # order.created and order.canceled, each claimed once


async def test_an_order_event_alone_is_enough_to_mail_its_customer() -> None:
    deps, repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(
        order_event(OrderCanceled, created, "canceled", reason="checkout_expired"), HANDLERS, deps
    )
    assert [m["To"] for m in mailer.sent] == [created.data.email]
    assert repo.orders[created.data.order_id].status == "canceled"


async def test_a_receipt_whose_sent_mark_did_not_commit_is_not_sent_again_when_the_handler_runs_again() -> (
    None
):
    """make chaos found it: SMTP took the receipt, the database connection died before 'sent'
    committed, the consumer ran the handler again and the customer got two receipts."""
    deps, repo, mailer = make_deps()
    order_paid = await _receipt_sent_then_its_connection_lost(deps, repo)
    await BUS.deliver(order_paid, HANDLERS, deps)  # what the consumer does while the database is unavailable
    assert len(mailer.sent) == 2  # the confirmation and one receipt
    assert all(row.state is EmailState.SENT for row in repo.emails.values())
    assert not deps.accepted


async def test_a_copy_on_another_replica_waits_while_the_first_ones_sent_mark_cannot_commit() -> None:
    """make chaos (db-connections-killed): replica 1's SMTP send went through, its 'sent' did not commit,
    and replica 2, with a republished copy of the same payment.succeeded, sent the receipt again."""
    deps, repo, mailer = make_deps()
    other = dataclasses.replace(deps, accepted=set())  # the other replica: same database and SMTP
    order_paid = await _receipt_sent_then_its_connection_lost(deps, repo)
    with pytest.raises(SendInProgress):  # the copy: its retry ladder tries again later
        await BUS.deliver(order_paid, HANDLERS, other)
    await BUS.deliver(order_paid, HANDLERS, deps)  # replica 1 runs it again once the database answers
    await BUS.deliver(order_paid, HANDLERS, other)  # the copy's retry: already sent
    assert len(mailer.sent) == 2  # the confirmation and one receipt


def _lose_the_first_sent_mark(repo) -> None:  # type: ignore[no-untyped-def]
    """SMTP takes the mail, then the database connection dies before 'sent' is recorded, once."""
    real_mark_sent, lost = repo.mark_sent, []

    async def mark_sent(order_id, kind):  # type: ignore[no-untyped-def]
        if not lost:
            lost.append(kind)
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle")
        await real_mark_sent(order_id, kind)

    repo.mark_sent = mark_sent


async def test_payment_succeeded_alone_sends_no_receipt_orders_decides_the_payment_pays_the_order() -> None:
    """A payment that does not match its order is parked by orders and never paid (issue 13): the
    notifier used to mail a receipt for it straight from payment.succeeded."""
    deps, repo, mailer = make_deps()
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    await BUS.deliver(payment(PaymentSucceeded, created.data.order_id, amount=1), HANDLERS, deps)
    assert [m["Subject"].split(" ")[0] for m in mailer.sent] == ["We"]  # the confirmation only
    assert repo.orders[created.data.order_id].status == "pending"


async def test_a_parked_payment_is_mailed_to_the_shop_once_never_to_the_customer() -> None:
    deps, repo, mailer = make_deps(shop_email="owner@shop.test")
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    data = created.data
    parked = created.follow_up(
        OrderPaymentParked(
            order_id=data.order_id, status="pending", email=data.email, total=data.total, currency="kwd",
            checkout_session_id="cs_cheap", payment_intent_id="pi_cheap", amount=1, payment_currency="kwd",
            reason="amount_mismatch",
        )
    )  # fmt: skip
    await BUS.deliver(parked, HANDLERS, deps)
    await BUS.deliver(parked, HANDLERS, deps)
    notice = mailer.sent[-1]
    assert len(mailer.sent) == 2  # the customer's confirmation, and one notice
    assert notice["To"] == "owner@shop.test"
    body = notice.get_body(("plain",)).get_content()
    assert "parked for review and not applied: amount_mismatch: paid KWD 0.001" in body
    assert "cs_cheap" in body
    assert repo.orders[data.order_id].status == "pending"


async def _receipt_sent_then_its_connection_lost(deps, repo):  # type: ignore[no-untyped-def]
    """An order confirmed, then its order.paid handled once: SMTP takes the receipt, 'sent' is lost."""
    created = order_created()
    await BUS.deliver(created, HANDLERS, deps)
    _lose_the_first_sent_mark(repo)
    order_paid = paid(created.data.order_id)
    with pytest.raises(asyncpg.exceptions.ConnectionDoesNotExistError):
        await BUS.deliver(order_paid, HANDLERS, deps)
    return order_paid
