"""devmailbox: the bounded in-memory store of received messages, optionally archived as .eml files."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from devmailbox.message import StoredMessage

DEFAULT_LIMIT = 1000


class MessageStore:
    """Keeps the newest `limit` messages; the oldest is dropped first."""

    def __init__(self, limit: int = DEFAULT_LIMIT, directory: Path | None = None) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.directory = directory
        self._messages: OrderedDict[str, StoredMessage] = OrderedDict()
        self._listeners: set[Callable[[], None]] = set()

    def __len__(self) -> int:
        return len(self._messages)

    def add(self, message: StoredMessage) -> None:
        self._messages[message.id] = message
        while len(self._messages) > self.limit:
            self._messages.popitem(last=False)
        for listener in list(self._listeners):
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every add (on the adding thread); returns the unsubscribe function."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def get(self, message_id: str) -> StoredMessage | None:
        return self._messages.get(message_id)

    def newest(self) -> StoredMessage | None:
        """The message stored last, without copying the store (listeners call this on every add)."""
        return next(reversed(self._messages.values()), None)

    def list(
        self, *, to: str | None = None, sender: str | None = None, subject: str | None = None
    ) -> list[StoredMessage]:
        """Newest first. `to` matches a whole address (To, Cc or envelope), case-insensitively;
        `sender` and `subject` match a substring, case-insensitively."""
        found = reversed(self._messages.values())
        if to:
            found = (m for m in found if to.lower() in m.recipients())
        if sender:
            found = (m for m in found if sender.lower() in f"{m.from_} {m.envelope_from}".lower())
        if subject:
            found = (m for m in found if subject.lower() in m.subject.lower())
        return list(found)

    def clear(self) -> int:
        """Forget every message (archived files stay); return how many there were."""
        count = len(self._messages)
        self._messages.clear()
        return count

    def archive(self, message: StoredMessage) -> Path | None:
        """Write the raw message to `directory` as .eml; blocking, so call it off the event loop."""
        if self.directory is None:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = message.received_at.strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{message.id}.eml"
        path.write_bytes(message.raw)
        return path
