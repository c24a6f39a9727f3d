"""notifier: the outgoing-mail port and its SMTP adapter (aiosmtplib), sorting failures by kind."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from typing import Protocol

import aiosmtplib
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from messaging.broker import Permanent

_tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A message ready for SMTP: envelope sender and recipients, and the bytes of the message."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    smtputf8: bool = False  # the addresses need the SMTPUTF8 extension


class TransientMailError(Exception):
    """4xx reply, connection refused, timeout: the same message may go through later."""


class PermanentMailError(Permanent):
    """5xx reply for this message (recipient, sender or content refused): retrying cannot help."""


class Mailer(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Deliver or raise TransientMailError / PermanentMailError."""
        ...

    async def close(self) -> None:
        """Let go of open connections."""
        ...


class SmtpMailer:
    """Sends over up to `connections` SMTP sessions kept open between messages.

    A new session per message costs a TCP connect, the greeting, EHLO and QUIT on both ends, which
    was a third of the notifier's time per e-mail. A session the server closed while idle is noticed
    before use and reopened; a session that fails mid-message is dropped, and the failure is
    classified as before (the send-once protocol decides what happens next).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        connections: int = 4,
        max_idle: float = 30.0,
    ) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._username, self._password, self._start_tls = username, password, start_tls
        self._max_idle = max_idle
        self._local_hostname = socket.gethostname()  # aiosmtplib's default, getfqdn(), may block on DNS
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._slots = asyncio.Semaphore(connections)

    async def send(self, message: Outgoing) -> None:
        """One span per message (aiosmtplib has no instrumentation): the end of a payment's trace."""
        server: dict[str, str | int] = {"server.address": self._host, "server.port": self._port}
        with _tracer.start_as_current_span("smtp send", kind=SpanKind.CLIENT, attributes=server):
            await self._send(message)

    async def _send(self, message: Outgoing) -> None:
        async with self._slots:
            client = await self._session()
            try:
                options = ["SMTPUTF8"] if message.smtputf8 else None
                await client.sendmail(message.sender, message.recipients, message.data, mail_options=options)
            except aiosmtplib.SMTPException as exc:
                # A reply about this message (aiosmtplib has sent RSET) leaves the session usable,
                # unless the server said it is closing (421); a timeout or disconnect does not.
                about_message = isinstance(
                    exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused
                )
                closing = isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421
                self._release(client, reusable=about_message and not closing)
                raise classify(exc) from exc
            except OSError as exc:
                self._release(client, reusable=False)
                raise self._unreachable(exc) from exc
            except BaseException:  # cancelled mid-conversation: the session state is unknown
                self._release(client, reusable=False)
                raise
            self._release(client, reusable=True)

    async def _session(self) -> aiosmtplib.SMTP:
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < self._max_idle:
                return client
            _discard(client)
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            username=self._username,
            password=self._password,
            start_tls=self._start_tls,
            local_hostname=self._local_hostname,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPException as exc:
            _discard(client)
            raise classify(exc) from exc
        except OSError as exc:  # refused, unreachable, reset before aiosmtplib wrapped it
            _discard(client)
            raise self._unreachable(exc) from exc
        return client

    def _release(self, client: aiosmtplib.SMTP, *, reusable: bool) -> None:
        if reusable and client.is_connected:
            self._idle.append((client, time.monotonic()))
        else:
            _discard(client)

    def _unreachable(self, exc: OSError) -> TransientMailError:
        return TransientMailError(f"SMTP {self._host}:{self._port} unreachable: {exc!r}")

    async def close(self) -> None:
        """QUIT every idle session (on shutdown)."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                _discard(client)


def _discard(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        client.close()


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
