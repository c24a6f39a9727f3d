"""notifier: the dependencies handlers and the API get, built by the entry points (fakes in tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from notifier.mailer import Mailer
from notifier.metrics import Metrics
from notifier.render import Composer
from notifier.repository import PgRepository, Repository
from runtime import Check

Transaction = Callable[[], AbstractAsyncContextManager[Repository]]


@dataclass
class Deps:
    """What the worker's handlers use."""

    transaction: Transaction
    mailer: Mailer
    composer: Composer
    base_url: str  # PUBLIC_BASE_URL, for links in e-mails
    metrics: Metrics = field(default_factory=Metrics)
    mail_per_address_per_hour: int = 10  # MAIL_PER_ADDRESS_PER_HOUR: of one kind; the rest are held
    # (order, kind) the SMTP server accepted whose 'sent' has not committed yet: when that commit fails
    # (a terminated backend, a restart) the consumer runs the handler again here, which records it
    # sent without sending it twice (send_once)
    accepted: set[tuple[UUID, str]] = field(default_factory=set)
    shop_email: str = "shop@example.com"  # NOTIFIER_SHOP_EMAIL, else MAIL_FROM: where shop notices go
    invoice_series: str = "INV-"  # SHOP_INVOICE_PREFIX: the series receipts' invoices are numbered in
    send_lease: float = 30.0  # seconds a delivery may take to send an e-mail before another may
    # a connection without a transaction (each statement commits alone), held across an SMTP send so
    # that 'sent' is one round trip after the server's answer; None: a transaction instead
    session: Transaction | None = None


@dataclass
class ApiDeps:
    """What the health and metrics routes use."""

    checks: Mapping[str, Check]  # readiness: each raises when what it checks is down
    count_emails: Callable[[], Awaitable[dict[str, int]]]
    metrics: Metrics = field(default_factory=Metrics)


def pg_transaction(pool: asyncpg.Pool[asyncpg.Record]) -> Transaction:
    @asynccontextmanager
    async def transaction() -> AsyncIterator[Repository]:
        async with pool.acquire() as conn, conn.transaction():
            yield PgRepository(conn)

    return transaction


def pg_session(pool: asyncpg.Pool[asyncpg.Record]) -> Transaction:
    @asynccontextmanager
    async def session() -> AsyncIterator[Repository]:
        async with pool.acquire() as conn:
            yield PgRepository(conn)

    return session
