"""devmailbox: the aiosmtpd handler and server that put received mail in the store."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from devmailbox.faults import FaultStage, FaultSwitch
from devmailbox.message import parse_message
from devmailbox.store import MessageStore

log = logging.getLogger(__name__)

# A fixed greeting name: aiosmtpd's default, socket.getfqdn(), can block on DNS for seconds.
HOSTNAME = "devmailbox"


class MailboxHandler:
    """aiosmtpd hooks: accept every recipient unless a fault is set, store every message."""

    def __init__(self, store: MessageStore, faults: FaultSwitch) -> None:
        self.store = store
        self.faults = faults

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if reply := self.faults.check(FaultStage.RCPT, envelope):
            log.info("refusing RCPT %s: %s", address, reply)
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if reply := self.faults.check(FaultStage.DATA, envelope):
            log.info("refusing DATA from %s: %s", envelope.mail_from, reply)
            return reply
        raw = envelope.original_content or b""
        peer = ":".join(str(part) for part in session.peer[:2]) if isinstance(session.peer, tuple) else ""
        message = parse_message(raw, envelope.mail_from or "", list(envelope.rcpt_tos), peer)
        self.store.add(message)
        if self.store.directory is not None:  # a thread hop per message only when archiving
            await asyncio.to_thread(self.store.archive, message)
        log.info("stored message %s %r for %s", message.id, message.subject, message.envelope_to)
        return "250 OK: message accepted"


def accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    """A sender configured with credentials works unchanged against the dev mailbox."""
    return AuthResult(success=True)


class SmtpServer:
    """An SMTP listener on the running event loop (no thread, unlike aiosmtpd's Controller)."""

    def __init__(self, handler: MailboxHandler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SMTP server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_session, host, port)

    def _new_session(self) -> Any:
        session = SMTP(
            self._handler,
            hostname=HOSTNAME,
            enable_SMTPUTF8=True,
            authenticator=accept_any_login,
            auth_require_tls=False,  # no TLS here; AUTH is optional, so aiosmtpd does not warn
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(session)
        return session

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        # Close clients still connected so their session tasks end now, not at loop teardown.
        tasks = [s._handler_coroutine for s in list(self._sessions) if s._handler_coroutine]
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
