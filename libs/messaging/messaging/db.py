"""Database types shared by the outbox, the inbox and the services' repositories."""

from __future__ import annotations

import logging
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)
OUTAGE_PAUSE_MAX = 5.0  # seconds between tries while the database is down: back within 5 s of it

Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# The database is unreachable, restarting, or our backend was terminated: the server's state is fine and
# the same work succeeds once it answers again. OSError (refused, reset) and TimeoutError count only
# when asyncpg raised them: a handler's SMTP or HTTP failures are its own business. Not every
# InterfaceError: asyncpg raises it for misuse too, and for a connection that died under us only with
# the words below (a terminated backend's connection is released back to its pool on its own, and every
# later call on its proxy, a rollback included, says so).
UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin_shutdown, cannot_connect_now (starting up)
    asyncpg.exceptions.TooManyConnectionsError,
    # A pooled connection whose backend was just terminated, handed out after the server's FATAL
    # arrived and before the socket's end did: "cannot switch to state ...; another operation is in
    # progress". Seen by tests/integration/outbox/test_relay_database_faults.py.
    asyncpg.exceptions.InternalClientError,
)


def _raised_in_asyncpg(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


_CLOSED_UNDER_US = ("released back to the pool", "connection is closed", "connection was closed")


def unavailable(exc: BaseException) -> bool:
    """True when `exc`, or an error it was raised from or during, says the database is unavailable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, UNAVAILABLE):
            return True
        if isinstance(current, asyncpg.InterfaceError) and any(w in str(current) for w in _CLOSED_UNDER_US):
            return True
        if isinstance(current, OSError | TimeoutError) and _raised_in_asyncpg(current):
            return True  # refused, reset or timed out talking to PostgreSQL, not to SMTP or HTTP
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class Outage:
    """A loop's run of rounds that found the database unavailable (the relay's, the scheduler's): the
    pause before the next round grows from 0.1 s to OUTAGE_PAUSE_MAX; one line each way."""

    def __init__(self, loop_name: str) -> None:
        self.loop_name = loop_name
        self.rounds = 0

    def failed(self, exc: BaseException) -> float:
        """A round failed with `exc` (for which `unavailable` is true): the pause before the next."""
        self.rounds += 1
        pause = min(OUTAGE_PAUSE_MAX, 0.1 * 2.0 ** min(self.rounds - 1, 6))
        log.warning("%s: database unavailable (%r); next try in %.1fs", self.loop_name, exc, pause)
        return pause

    def succeeded(self) -> None:
        if self.rounds:
            log.info("%s: database reachable again after %d failed rounds", self.loop_name, self.rounds)
            self.rounds = 0


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Release without asyncpg's default reset query (advisory unlock all, CLOSE ALL, UNLISTEN *,
    RESET ALL): one more round trip per transaction, a quarter of all statements in the pipeline.

    paybus leaves no session state behind: no SET, no cursor outside a transaction, and every
    session advisory lock or LISTEN is undone where it was taken. asyncpg still rolls back a
    transaction left open and drops Python-side listeners before calling this.
    """


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool[asyncpg.Record]:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session)
    assert pool is not None  # asyncpg returns None only for a pool created without awaiting it
    return pool
