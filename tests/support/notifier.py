"""In-memory fakes of the notifier's own ports (repository, mailer), and `parsed` as a mail client reads."""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser, Parser
from typing import Any
from uuid import UUID

from messaging.events.orders import OrderStatus
from notifier.deps import Deps
from notifier.domain import EmailState, InvoiceNumber, Mail, Order
from notifier.mailer import Outgoing
from notifier.render import Composer

BASE_URL = "http://shop.test"


def parsed(message: Outgoing) -> EmailMessage:
    """The message as a receiving mail client reads it."""
    if message.smtputf8:  # RFC 6532: the headers are UTF-8 text
        msg = Parser(policy=policy.default).parsestr(message.data.decode("utf-8"))
    else:
        msg = BytesParser(policy=policy.default).parsebytes(message.data)
    assert isinstance(msg, EmailMessage)
    assert message.recipients == (msg["To"].addresses[0].addr_spec,)
    return msg


@dataclass
class EmailRow:
    message_id: str
    recipient: str
    subject: str
    cause_id: str
    state: EmailState = EmailState.INTENDED
    attempts: int = 0
    last_error: str | None = None
    created_at: float = field(default_factory=time.monotonic)
    leased_until: float = 0.0  # monotonic seconds: another delivery is sending it until then
    invoice: InvoiceNumber | None = None


@dataclass
class InMemoryRepository:
    orders: dict[UUID, Order] = field(default_factory=dict)
    emails: dict[tuple[UUID, str], EmailRow] = field(default_factory=dict)
    inbox: set[tuple[str, str]] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)  # invoice series -> the next number

    async def claim(self, consumer: str, message_id: str) -> bool:
        if (consumer, message_id) in self.inbox:
            return False
        self.inbox.add((consumer, message_id))
        return True

    async def save_order(self, order: Order) -> None:
        known = self.orders.setdefault(order.id, order)
        if not known.lines and order.lines:
            self.orders[order.id] = dataclasses.replace(known, lines=order.lines)

    async def get_order(self, order_id: UUID) -> Order | None:
        return self.orders.get(order_id)

    async def lock_order(self, order_id: UUID) -> Order | None:
        return self.orders.get(order_id)

    async def set_status(self, order_id: UUID, status: OrderStatus, refund_reversals: int) -> None:
        self.orders[order_id] = dataclasses.replace(
            self.orders[order_id], status=status, refund_reversals=refund_reversals
        )

    async def record_intent(
        self, mail: Mail, cause_id: str, correlation_id: str, state: EmailState = EmailState.INTENDED
    ) -> None:
        row = EmailRow(mail.message_id, mail.recipient, mail.subject, cause_id, state, invoice=mail.invoice)
        self.emails.setdefault((mail.order.id, mail.kind), row)

    async def next_invoice_number(self, series: str) -> InvoiceNumber:
        seq = self.counters.get(series, 1)
        self.counters[series] = seq + 1
        return InvoiceNumber(series, seq)

    async def invoice_number(self, order_id: UUID, kind: str) -> InvoiceNumber | None:
        row = self.emails.get((order_id, kind))
        return row.invoice if row else None

    async def set_invoice_number(self, order_id: UUID, kind: str, number: InvoiceNumber) -> None:
        row = self.emails[(order_id, kind)]
        row.invoice = row.invoice or number

    async def email_state(self, order_id: UUID, kind: str) -> EmailState | None:
        row = self.emails.get((order_id, kind))
        return row.state if row else None

    async def lock_address(self, recipient: str) -> None:
        return None  # one transaction at a time here

    async def count_recent(self, recipient: str, template: str, seconds: float) -> int:
        since = time.monotonic() - seconds
        return sum(
            1
            for (_, kind), row in self.emails.items()
            if row.recipient.lower() == recipient.lower() and kind.split(".")[0] == template
            and row.state in (EmailState.INTENDED, EmailState.SENT) and row.created_at > since
        )  # fmt: skip

    async def lock_email(self, order_id: UUID, kind: str) -> EmailState | None:
        row = self.emails.get((order_id, kind))
        return row.state if row else None

    async def take_lease(self, order_id: UUID, kind: str, seconds: float) -> bool:
        row = self.emails[(order_id, kind)]
        if row.state not in (EmailState.INTENDED, EmailState.FAILED) or row.leased_until > time.monotonic():
            return False
        row.leased_until = time.monotonic() + seconds
        return True

    async def mark_sent(self, order_id: UUID, kind: str) -> None:
        row = self.emails[(order_id, kind)]
        row.leased_until = 0.0
        row.state, row.attempts, row.last_error = EmailState.SENT, row.attempts + 1, None

    async def record_failure(self, order_id: UUID, kind: str, state: EmailState, error: str) -> None:
        row = self.emails[(order_id, kind)]
        row.leased_until = 0.0
        row.state, row.attempts, row.last_error = state, row.attempts + 1, error

    async def count_emails(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.emails.values():
            counts[row.state.value] = counts.get(row.state.value, 0) + 1
        return counts


@dataclass
class FakeMailer:
    """Records messages; `fail_with` makes the next sends raise instead."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: list[Exception] = field(default_factory=list)

    async def send(self, message: Outgoing) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append(parsed(message))

    async def close(self) -> None:
        pass


def make_deps(**overrides: Any) -> tuple[Deps, InMemoryRepository, FakeMailer]:
    repo, mailer = InMemoryRepository(), FakeMailer()

    @asynccontextmanager
    async def transaction() -> AsyncIterator[InMemoryRepository]:
        """Like the database's: what a transaction did is undone when it raises."""
        saved = copy.deepcopy((repo.orders, repo.emails, repo.inbox, repo.counters))
        try:
            yield repo
        except BaseException:
            repo.orders, repo.emails, repo.inbox, repo.counters = saved
            raise

    deps = Deps(
        transaction=transaction,
        mailer=mailer,
        composer=Composer("shop@example.com"),
        base_url=BASE_URL,
        **overrides,
    )
    return deps, repo, mailer
