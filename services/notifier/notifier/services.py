"""notifier: send one e-mail at most once per (order, kind): intent committed, send, result recorded.

The handler records the intent (`intend`) in the transaction that reads or changes the order, so a
mail costs two transactions: that one, and the locked send-and-record of `send_once`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

from opentelemetry import trace

from messaging.event import Envelope
from notifier import domain
from notifier.deps import Deps
from notifier.domain import EmailState, Mail
from notifier.mailer import PermanentMailError, TransientMailError
from notifier.repository import Repository

log = logging.getLogger(__name__)
MailError = TransientMailError | PermanentMailError
HOUR = 3600.0
_tracer = trace.get_tracer(__name__)


async def intend(repo: Repository, mail: Mail, msg: Envelope[Any], deps: Deps) -> None:
    """Record the intent to send `mail` (the first cause wins); commit it before `send_once`.

    Beyond MAIL_PER_ADDRESS_PER_HOUR e-mails of its template to its address in the last hour, the row is
    recorded 'held' instead: never sent, counted, visible in the database and the metrics (issue 13).
    """
    await repo.lock_address(mail.recipient)  # two intents to one address count one after the other
    if await repo.email_state(mail.order.id, mail.kind) is not None:
        return  # recorded by an earlier delivery: its decision stands
    recent = await repo.count_recent(mail.recipient, mail.template.value, HOUR)
    state = domain.intent_state(recent, deps.mail_per_address_per_hour)
    if mail.payment is not None:  # a receipt: its invoice is issued now, numbered once (a held one too)
        mail = dataclasses.replace(mail, invoice=await repo.next_invoice_number(deps.invoice_series))
        log.info("%s is invoice %s (message %s)", mail.message_id, mail.invoice, msg.id)
    await repo.record_intent(mail, str(msg.id), msg.correlation_id, state)
    if state is EmailState.HELD:
        log.warning(
            "%s held back: %d %s e-mails to this address in the last hour (message %s, correlation %s)",
            mail.message_id, recent, mail.template.value, msg.id, msg.correlation_id,
        )  # fmt: skip
        deps.metrics.emails.labels(mail.template.value, "held").inc()


async def _invoice_number(repo: Repository, mail: Mail, deps: Deps) -> domain.InvoiceNumber:
    """The number stored with the receipt's intent, so every send prints the same one; a receipt
    intended before invoices were numbered gets the next one now, under its row's lock."""
    number = await repo.invoice_number(mail.order.id, mail.kind)
    if number is None:
        number = await repo.next_invoice_number(deps.invoice_series)
        await repo.set_invoice_number(mail.order.id, mail.kind, number)
    return number


class SendInProgress(Exception):
    """Another delivery holds the e-mail's send lease: try again later (the retry ladder)."""


async def send_once(mail: Mail, msg: Envelope[Any], deps: Deps) -> None:
    """Send `mail` unless it was sent already; raise the SMTP failure after recording it.

    The intent row is committed before (`intend`). Sending takes a lease on the row in a committed
    transaction, then sends outside any transaction, then records the outcome: a second delivery of
    the same fact (republished, or redelivered to another replica) finds the row sent, or leased and
    retries later, instead of sending again while the first one's 'sent' cannot commit (make chaos,
    db-connections-killed). When that commit fails the consumer runs the handler again here, and
    `deps.accepted` says the SMTP server took it. Only a process killed between the SMTP server's
    acceptance and that commit sends again once the lease ends, with the same Message-ID.
    """
    key = (mail.order.id, mail.kind)
    async with deps.transaction() as repo:
        state = await repo.lock_email(mail.order.id, mail.kind)
        if state in (EmailState.HELD, EmailState.SENT):
            deps.accepted.discard(key)
            _skipped(mail, msg, state, deps)
            return
        accepted = key in deps.accepted  # sent by this process, but 'sent' did not commit
        if not accepted and not await repo.take_lease(mail.order.id, mail.kind, deps.send_lease):
            raise SendInProgress(f"{mail.message_id} is being sent by another delivery")
        if mail.payment is not None:
            mail = dataclasses.replace(mail, invoice=await _invoice_number(repo, mail, deps))
    if accepted:
        log.info("%s was accepted by SMTP before; recording it sent (message %s)", mail.message_id, msg.id)
    async with (deps.session or deps.transaction)() as recorder:
        failure = None if accepted else await _deliver(mail, deps)
        try:
            if failure is None:
                await recorder.mark_sent(mail.order.id, mail.kind)  # the kill window: keep it one statement
            else:
                failed = EmailState.FAILED if isinstance(failure, PermanentMailError) else EmailState.INTENDED
                await recorder.record_failure(mail.order.id, mail.kind, failed, str(failure))
        except BaseException:
            if failure is None:
                deps.accepted.add(key)  # the next run records it without sending it again
            raise
    deps.accepted.discard(key)
    _log_outcome(mail, msg, failure, deps)
    if failure is not None:
        raise failure


def _skipped(mail: Mail, msg: Envelope[Any], state: EmailState, deps: Deps) -> None:
    if state is EmailState.HELD:
        log.info("%s held back, not sent (message %s)", mail.message_id, msg.id)
        return
    ids = (mail.message_id, msg.id, msg.correlation_id)
    log.info("%s already sent (message %s, correlation %s)", *ids)
    deps.metrics.emails.labels(mail.template.value, "duplicate").inc()


async def _deliver(mail: Mail, deps: Deps) -> MailError | None:
    started = time.perf_counter()
    try:
        try:
            # the PDF invoice takes 15-20 ms of CPU: off the event loop, so deliveries and health answer
            template = {"email.template": mail.template.value}
            with _tracer.start_as_current_span("email render", attributes=template):
                message = await asyncio.to_thread(deps.composer.compose, mail)
        except ValueError as exc:  # e.g. a line break in the address: no retry fixes the event
            raise PermanentMailError(f"cannot build the message: {exc}") from exc
        await deps.mailer.send(message)
    except (TransientMailError, PermanentMailError) as exc:
        return exc
    finally:
        deps.metrics.send_seconds.observe(time.perf_counter() - started)
    return None


def _log_outcome(mail: Mail, msg: Envelope[Any], failure: MailError | None, deps: Deps) -> None:
    ids = (mail.message_id, msg.id, msg.correlation_id)
    if failure is None:
        outcome = "sent"
        log.info("sent %s (message %s, correlation %s)", *ids)
    elif isinstance(failure, PermanentMailError):
        outcome = "permanent"
        log.error("%s rejected for good (message %s, correlation %s): %s", *ids, failure)
    else:
        outcome = "transient"
        log.warning("%s not sent yet (message %s, correlation %s): %s", *ids, failure)
    deps.metrics.emails.labels(mail.template.value, outcome).inc()
