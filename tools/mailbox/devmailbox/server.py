"""devmailbox: Mailbox, the SMTP server and the web app running together on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from types import TracebackType

import uvicorn

from devmailbox.app import create_app
from devmailbox.faults import FaultSwitch
from devmailbox.settings import Settings
from devmailbox.smtp import MailboxHandler, SmtpServer
from devmailbox.store import MessageStore

STARTUP_TIMEOUT = 10.0

log = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: whoever owns the process decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    # Not socket.create_server: its proto is 0, and asyncio then leaves Nagle on for accepted
    # connections, which costs every keep-alive HTTP request a 40 ms delayed-ACK stall.
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(100)
    except BaseException:
        sock.close()
        raise
    return sock


class Mailbox:
    """Both servers over one store; ports may be 0, the bound ones are then in smtp_port/web_port."""

    def __init__(self, settings: Settings, store: MessageStore | None = None) -> None:
        self.settings = settings
        self.store = store or MessageStore(settings.mailbox_limit, settings.mailbox_dir)
        self.faults = FaultSwitch()
        self._smtp = SmtpServer(MailboxHandler(self.store, self.faults))
        self._web: _EmbeddedServer | None = None
        self._web_task: asyncio.Task[None] | None = None
        self._web_sock: socket.socket | None = None
        self.web_port = 0

    @property
    def smtp_port(self) -> int:
        return self._smtp.port

    @property
    def web_url(self) -> str:
        return f"http://{self.settings.mailbox_host}:{self.web_port}"

    async def start(self) -> None:
        await self._smtp.start(self.settings.smtp_host, self.settings.smtp_port)
        try:
            await self._start_web()
        except BaseException:
            await self.stop()
            raise

    async def _start_web(self) -> None:
        # Bind the socket ourselves so port 0 works and the bound port is known before serving.
        sock = self._web_sock = _listen(self.settings.mailbox_host, self.settings.mailbox_port)
        self.web_port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.store, self.faults),
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._web = _EmbeddedServer(config)
        self._web_task = asyncio.create_task(self._web.serve(sockets=[sock]), name="devmailbox-web")
        # uvicorn offers only a flag for "listening"; poll it, bounded, failing fast if serve() ends.
        async with asyncio.timeout(STARTUP_TIMEOUT):
            while not self._web.started:
                if self._web_task.done():
                    self._web_task.result()  # raises what stopped it
                    raise RuntimeError("web server exited during startup")
                await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._web is not None and self._web_task is not None:
            self._web.should_exit = True
            await asyncio.wait([self._web_task])
            if not self._web_task.cancelled() and (error := self._web_task.exception()):
                log.error("web server failed", exc_info=error)
            self._web = self._web_task = None
        if self._web_sock is not None:
            self._web_sock.close()  # uvicorn closes it too, unless startup failed first
            self._web_sock = None
        await self._smtp.stop()

    async def __aenter__(self) -> Mailbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
