"""devmailbox: a running mailbox on free ports for tests, with bounded waiting for mail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from devmailbox.faults import FaultSwitch
from devmailbox.message import StoredMessage
from devmailbox.server import Mailbox
from devmailbox.settings import Settings
from devmailbox.store import DEFAULT_LIMIT, MessageStore

Predicate = Callable[[StoredMessage], bool]


def _any(_: StoredMessage) -> bool:
    return True


@dataclass(frozen=True)
class RunningMailbox:
    host: str
    smtp_port: int
    web_port: int
    store: MessageStore
    faults: FaultSwitch

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    # The timeout argument is the interface the notifier tests were promised, hence the noqa.
    async def wait_for(
        self,
        predicate: Predicate = _any,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[StoredMessage]:
        """Wait until `count` received messages match; return all that match, oldest first.

        Wakes on every stored message (no polling); raises TimeoutError naming what did arrive.
        """
        arrived = asyncio.Event()
        unsubscribe = self.store.subscribe(arrived.set)
        try:
            async with asyncio.timeout(timeout):
                while len(found := self._matching(predicate)) < count:
                    arrived.clear()
                    await arrived.wait()
                return found
        except TimeoutError:
            subjects = [m.subject for m in self.store.list()]
            raise TimeoutError(
                f"{len(self._matching(predicate))} of {count} expected messages after {timeout}s; "
                f"received subjects: {subjects}"
            ) from None
        finally:
            unsubscribe()

    async def wait_for_one(self, predicate: Predicate = _any, *, timeout: float = 5.0) -> StoredMessage:  # noqa: ASYNC109
        """The newest message that matches, waiting for one if needed."""
        return (await self.wait_for(predicate, timeout=timeout))[-1]

    def _matching(self, predicate: Predicate) -> list[StoredMessage]:
        return [m for m in reversed(self.store.list()) if predicate(m)]


@asynccontextmanager
async def running_mailbox(
    *,
    host: str = "127.0.0.1",
    smtp_port: int = 0,
    web_port: int = 0,
    limit: int = DEFAULT_LIMIT,
    directory: Path | None = None,
) -> AsyncIterator[RunningMailbox]:
    """Start SMTP and web servers (port 0: a free one), yield them, stop them. Ignores the environment."""
    settings = Settings(
        _env_file=None,
        smtp_host=host,
        smtp_port=smtp_port,
        mailbox_host=host,
        mailbox_port=web_port,
        mailbox_dir=directory,
        mailbox_limit=limit,
    )
    async with Mailbox(settings) as box:
        yield RunningMailbox(host, box.smtp_port, box.web_port, box.store, box.faults)
