"""SMTP trouble: transient failures are retried until every e-mail is sent exactly once; 5xx is parked."""

from __future__ import annotations

import socket
from collections import Counter
from email.message import EmailMessage

import pytest

from devmailbox.faults import FaultMode, FaultStage
from devmailbox.testing import running_mailbox
from messaging import dlq
from notifier import domain
from notifier.mailer import Outgoing, PermanentMailError, SmtpMailer, TransientMailError
from notifier.render import Composer
from tests.support.events import order_created
from tests.support.notifier_live import to
from tests.support.waiting import eventually


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _attempted(stand, count: int) -> None:  # type: ignore[no-untyped-def]
    """Every e-mail was tried (and failed) at least once."""
    rows = await stand.emails()
    return len(rows) == count and all(r["attempts"] >= 1 and r["state"] == "intended" for r in rows)


@pytest.mark.parametrize("stage", [FaultStage.RCPT, FaultStage.DATA])
async def test_smtp_tempfail_then_up_sends_every_email_exactly_once(stand, mailbox, stage) -> None:
    mailbox.faults.set(FaultMode.TEMPFAIL, stage)  # 451 for every message until switched off
    orders = [order_created(f"temp{n}@example.com") for n in range(3)]
    for created in orders:
        await stand.publish(created)
    await eventually(lambda: _attempted(stand, 3), timeout=10)
    assert mailbox.store.list() == []
    mailbox.faults.set(FaultMode.NONE)
    await mailbox.wait_for(lambda m: m.subject.startswith("We received"), count=3, timeout=15)
    rows = await stand.drain(consumed=3 + stand.stats.retried)
    assert Counter(m.message_id for m in mailbox.store.list()) == {
        f"<confirmation.{o.data.order_id}@paybus>": 1 for o in orders
    }
    assert {r["state"] for r in rows} == {"sent"}
    assert all(r["attempts"] >= 2 and r["last_error"] is None for r in rows)
    assert stand.stats.dead_lettered == 0


async def test_smtp_server_not_listening_then_up_sends_every_email_exactly_once(start_stand) -> None:
    port = _unused_port()
    stand = await start_stand(port)
    orders = [order_created(f"down{n}@example.com") for n in range(2)]
    for created in orders:
        await stand.publish(created)
    await eventually(lambda: _attempted(stand, 2), timeout=10)
    assert all("SMTPConnectError" in r["last_error"] for r in await stand.emails())
    async with running_mailbox(smtp_port=port) as box:
        await box.wait_for(count=2, timeout=15)
        rows = await stand.drain(consumed=2 + stand.stats.retried)
        received = Counter(m.message_id for m in box.store.list())
    assert received == {f"<confirmation.{o.data.order_id}@paybus>": 1 for o in orders}
    assert {r["state"] for r in rows} == {"sent"}


async def test_a_permanent_rejection_goes_to_the_dlq_with_the_reason(stand, mailbox) -> None:
    mailbox.faults.set(FaultMode.REJECT, count=1)  # 550 for the next message only
    rejected = order_created("gone@example.com")
    await stand.publish(rejected)
    await eventually(lambda: stand.stats.dead_lettered == 1, timeout=10)
    [parked] = await dlq.show(stand.publisher, stand.prefix + "notifier.orders")
    assert parked.message_id == str(rejected.id)
    assert parked.correlation_id == rejected.correlation_id
    assert parked.headers["x-attempts"] == 1  # not retried: retrying cannot help
    assert parked.headers["x-error"].startswith("PermanentMailError: SMTP SMTPRecipientsRefused")
    assert "gone@example.com: 550 5.7.1 Rejected" in parked.headers["x-error"]
    assert stand.stats.retried == 0
    [row] = await stand.emails()
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert "550" in row["last_error"]
    await stand.publish(order_created("next@example.com"))  # the next customer is not affected
    await mailbox.wait_for_one(to("next@example.com"), timeout=10)
    assert not any("gone@example.com" in m.recipients() for m in mailbox.store.list())


async def test_a_replayed_rejection_is_tried_again_and_sent_once(stand, mailbox) -> None:
    mailbox.faults.set(FaultMode.REJECT, count=1)
    rejected = order_created("fixed@example.com")
    await stand.publish(rejected)
    await eventually(lambda: stand.stats.dead_lettered == 1, timeout=10)
    assert await dlq.replay(stand.publisher, stand.prefix + "notifier.orders") == 1  # the operator's fix
    await mailbox.wait_for_one(to("fixed@example.com"), timeout=10)
    [row] = await stand.drain(consumed=2)
    assert (row["state"], row["attempts"]) == ("sent", 2)


async def test_connection_refused_is_a_transient_mail_error() -> None:
    mailer = SmtpMailer("127.0.0.1", _unused_port(), timeout=2)
    with pytest.raises(TransientMailError, match="SMTP"):
        await mailer.send(_message("b@example.com"))


def _message(to: str) -> Outgoing:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@example.com", to, f"for {to}"
    msg.set_content("hello")
    return Outgoing("shop@example.com", (to,), bytes(msg))


async def test_sessions_are_reused_and_reopened_after_the_server_went_away() -> None:
    port = _unused_port()
    mailer = SmtpMailer("127.0.0.1", port, timeout=5, connections=1)
    try:
        async with running_mailbox(smtp_port=port) as box:
            for n in range(3):
                await mailer.send(_message(f"reuse{n}@example.com"))
            first = box.store.list()
            assert len(first) == 3
            assert len({m.peer for m in first}) == 1  # one SMTP session carried all three
        async with running_mailbox(smtp_port=port) as box:  # the old session was closed by the server
            await mailer.send(_message("after@example.com"))
            [again] = box.store.list()
            assert again.peer != first[0].peer
    finally:
        await mailer.close()


async def test_a_refused_recipient_leaves_the_session_usable(mailbox) -> None:
    mailer = SmtpMailer("127.0.0.1", mailbox.smtp_port, timeout=5, connections=1)
    try:
        mailbox.faults.set(FaultMode.REJECT, count=1)
        with pytest.raises(PermanentMailError, match="550"):
            await mailer.send(_message("refused@example.com"))
        await mailer.send(_message("fine@example.com"))
        await mailer.send(_message("fine2@example.com"))
        assert len({m.peer for m in mailbox.store.list()}) == 1
    finally:
        await mailer.close()


async def test_a_non_ascii_address_goes_through_with_smtputf8(mailbox) -> None:
    from tests.support.events import order_created as created

    order = created("zoë@exämple.com").data
    mail = domain.confirmation(
        domain.Order(
            order.order_id, order.email, (), order.total, order.currency, "pending", order.payment_deadline
        ),
        "http://shop.test",
    )
    mailer = SmtpMailer("127.0.0.1", mailbox.smtp_port, timeout=5)
    try:
        await mailer.send(Composer("shop@example.com").compose(mail))
    finally:
        await mailer.close()
    [received] = mailbox.store.list()
    assert received.envelope_to == ("zoë@exämple.com",)
    assert received.to == ("zoë@exämple.com",)
