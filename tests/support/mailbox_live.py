"""Messages for the dev mailbox's tests: plain ones, an invoice with a PDF, and a blocking SMTP send."""

from __future__ import annotations

import smtplib
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n\x00\xff binary tail"

Send = Callable[..., Awaitable[None]]


def send_sync(port: int, message: EmailMessage, to: list[str] | None) -> None:
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
