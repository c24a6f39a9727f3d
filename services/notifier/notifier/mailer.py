"""notifier: the outgoing-mail port and its SMTP adapter (aiosmtplib), sorting failures by kind."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from messaging.broker import Permanent


class TransientMailError(Exception):
    """4xx reply, connection refused, timeout: the same message may go through later."""


class PermanentMailError(Permanent):
    """5xx reply for this message (recipient, sender or content refused): retrying cannot help."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver or raise TransientMailError / PermanentMailError."""
        ...


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
    ) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._username, self._password, self._start_tls = username, password, start_tls

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                timeout=self._timeout,
                username=self._username,
                password=self._password,
                start_tls=self._start_tls,
            )
        except aiosmtplib.SMTPException as exc:
            raise classify(exc) from exc
        except OSError as exc:  # refused, unreachable, reset before aiosmtplib wrapped it
            raise TransientMailError(f"SMTP {self._host}:{self._port} unreachable: {exc!r}") from exc


def classify(exc: aiosmtplib.SMTPException) -> TransientMailError | PermanentMailError:
    """5xx for this message's sender, recipients or content is permanent; everything else is not."""
    codes = _codes(exc)
    text = f"SMTP {type(exc).__name__}: {_describe(exc)}"
    if codes and all(500 <= code < 600 for code in codes):
        return PermanentMailError(text)
    return TransientMailError(text)


def _codes(exc: aiosmtplib.SMTPException) -> list[int]:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return [refused.code for refused in exc.recipients]
    message_level = (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError)
    if isinstance(exc, message_level):
        return [exc.code]
    return []  # connection, HELO, AUTH, timeouts: about the server, not this message


def _describe(exc: aiosmtplib.SMTPException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return exc.message
