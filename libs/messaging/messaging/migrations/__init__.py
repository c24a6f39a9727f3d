"""Numbered plain-SQL migrations, applied in order under an advisory lock; the library's own files."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import asyncpg

from messaging.db import Conn
from messaging.settings import service_database_dsn

__all__ = ["LIBRARY", "ensure_database", "migrate", "prepare_database"]

log = logging.getLogger(__name__)
LIBRARY = Path(__file__).parent  # outbox and inbox tables
_LOCK_KEY = 0x70617962  # "payb": one advisory lock for all migrations of a database

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
APPLIED = "SELECT version FROM schema_migrations"
RECORD = "INSERT INTO schema_migrations (version) VALUES ($1)"


async def migrate(conn: Conn, *sources: tuple[str, Path]) -> list[str]:
    """Apply every `NNNN_name.sql` not yet applied, source by source; safe when processes race."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(CREATE_LEDGER)
        done = {row["version"] for row in await conn.fetch(APPLIED)}
        for source, folder in sources:
            for path in sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.sql")):
                version = f"{source}:{path.stem}"
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text(encoding="utf-8"))
                    await conn.execute(RECORD, version)
                log.info("applied migration %s", version)
                applied_now.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


async def ensure_database(dsn: str) -> None:
    """Create the database of a DSN if it is missing (two processes may race: both succeed)."""
    name = dsn.rsplit("/", 1)[-1].split("?", 1)[0]
    maintenance = dsn.rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(maintenance)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{name}"')  # a name cannot be a parameter
    finally:
        await conn.close()


async def prepare_database(database_url: str, service: str, folder: Path) -> str:
    """Create `<prefix>_<service>` if missing and bring it up to date; return its DSN."""
    dsn = service_database_dsn(database_url, service)
    await ensure_database(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, ("messaging", LIBRARY), (service, folder))
    finally:
        await conn.close()
    return dsn
