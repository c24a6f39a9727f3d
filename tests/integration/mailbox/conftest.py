"""Fixtures for the dev mailbox tests: a mailbox on free ports, a web client, an SMTP sender."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage

import httpx
import pytest

from devmailbox.faults import FaultMode
from devmailbox.testing import RunningMailbox, running_mailbox

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n\x00\xff binary tail"

Send = Callable[..., Awaitable[None]]


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
        await asyncio.to_thread(_send_sync, box.smtp_port, message, to)

    return _send


@pytest.fixture
def send_to() -> Callable[..., Awaitable[None]]:
    """Send to a mailbox a test started itself."""

    async def _send(box: RunningMailbox, message: EmailMessage, to: list[str] | None = None) -> None:
        await asyncio.to_thread(_send_sync, box.smtp_port, message, to)

    return _send


def _send_sync(port: int, message: EmailMessage, to: list[str] | None) -> None:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost", timeout=5) as client:
        client.send_message(message, to_addrs=to)


def make_message(
    subject: str = "Hello", to: str = "bob@example.com", sender: str = "shop@example.com"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"{subject}: text body\n")
    return message


def make_invoice(to: str = "Bob <bob@example.com>") -> EmailMessage:
    message = make_message("Your invoice #42", to)
    message["Message-ID"] = "<invoice-42@example.com>"
    message.clear_content()
    message.set_content("Thank you for your order.\nTotal: 12.50 EUR\n")
    message.add_alternative("<h1>Thank you</h1><p>Total: <b>12.50 EUR</b></p>", subtype="html")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice-42.pdf")
    return message


@pytest.fixture
def message_factory() -> Callable[..., EmailMessage]:
    return make_message


@pytest.fixture
def invoice() -> EmailMessage:
    return make_invoice()


@pytest.fixture
def pdf_bytes() -> bytes:
    return PDF
