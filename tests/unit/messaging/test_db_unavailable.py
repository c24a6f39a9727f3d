"""Which failures mean "the database is unavailable, try the same work again" and which do not."""

from __future__ import annotations

import asyncpg
import pytest

from messaging.db import unavailable


def _raised(exc: BaseException, *, during: BaseException | None = None) -> BaseException:
    try:
        if during is None:
            raise exc
        try:
            raise during
        except BaseException:
            raise exc  # noqa: B904 - the implicit context is what asyncpg's rollback leaves
    except BaseException as caught:
        return caught


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError(
            "cannot call Connection.execute(): connection has been released back to the pool"
        ),
        asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the underlying connection is closed"),
    ],
)
def test_connection_loss_and_restarts_are_unavailable(exc: BaseException) -> None:
    assert unavailable(_raised(exc))


def test_a_rollback_error_after_a_lost_connection_is_unavailable() -> None:
    lost = asyncpg.exceptions.ConnectionDoesNotExistError(
        "terminating connection due to administrator command"
    )
    assert unavailable(_raised(RuntimeError("rollback failed"), during=lost))


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionError("smtp down"),  # a handler's own dependency: its retry ladder decides
        TimeoutError("smtp timed out"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),  # misuse
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.UndefinedTableError("relation does not exist"),
        ValueError("bad amount"),
    ],
)
def test_other_failures_are_not(exc: BaseException) -> None:
    assert not unavailable(_raised(exc))
