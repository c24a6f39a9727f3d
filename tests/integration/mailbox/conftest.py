"""Fixtures for the dev mailbox tests: a mailbox on free ports, a web client, an SMTP sender."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage

import httpx
import pytest

from devmailbox.faults import FaultMode
from devmailbox.testing import RunningMailbox, running_mailbox
from tests.support.mailbox_live import PDF, Send, make_invoice, make_message, send_sync


@pytest.fixture(scope="module")
async def shared_box() -> AsyncIterator[RunningMailbox]:
    # One mailbox per module: stopping uvicorn takes ~0.2 s, too slow to repeat for every test.
    async with running_mailbox() as running:
        yield running


@pytest.fixture
def box(shared_box: RunningMailbox) -> RunningMailbox:
    """The module's mailbox, emptied and with faults off, so each test starts clean."""
    shared_box.store.clear()
    shared_box.faults.set(FaultMode.NONE)
    return shared_box


@pytest.fixture
async def web(box: RunningMailbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=box.web_url, timeout=5) as client:
        yield client


@pytest.fixture
def send(box: RunningMailbox) -> Send:
    """Send over real SMTP; smtplib blocks, so it runs in a thread beside the server's event loop."""

    async def _send(message: EmailMessage, to: list[str] | None = None) -> None:
        await asyncio.to_thread(send_sync, box.smtp_port, message, to)

    return _send


@pytest.fixture
def send_to() -> Callable[..., Awaitable[None]]:
    """Send to a mailbox a test started itself."""

    async def _send(box: RunningMailbox, message: EmailMessage, to: list[str] | None = None) -> None:
        await asyncio.to_thread(send_sync, box.smtp_port, message, to)

    return _send


@pytest.fixture
def message_factory() -> Callable[..., EmailMessage]:
    return make_message


@pytest.fixture
def invoice() -> EmailMessage:
    return make_invoice()


@pytest.fixture
def pdf_bytes() -> bytes:
    return PDF
