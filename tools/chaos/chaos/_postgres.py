"""Chaos room: a PostgreSQL server of our own (initdb + pg_ctl) on a free port under a temporary directory."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from chaos._proc import ServerError, as_user, free_port, give, kill_pid, pid_alive, pid_from, run

PG_USER = "postgres"
TERMINATE = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname LIKE $1 || '%' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


def pg_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def postgres_available() -> str | None:
    """None when this machine can run a PostgreSQL of our own, else why not."""
    if pg_bin() is None:
        return "no pg_ctl (Debian: /usr/lib/postgresql/<ver>/bin)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is missing"
    return None


@dataclass
class PgServer:
    """initdb'd once under `workdir`, trust auth, listening on 127.0.0.1:`port` and a socket in `workdir`."""

    workdir: Path
    port: int = field(default_factory=free_port)
    max_connections: int = 300

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    @property
    def log_file(self) -> Path:
        return self.workdir / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def _ctl(self, *args: str, timeout: float = 120) -> str:
        bindir = pg_bin()
        if bindir is None:
            raise ServerError("no pg_ctl")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PGTZ": "UTC"}
        user = PG_USER if os.geteuid() == 0 else os.environ.get("USER", "")
        return run(as_user(user, [str(bindir / args[0]), *args[1:]]), env, timeout=timeout)

    def _init(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        give(self.workdir, PG_USER)
        self._ctl("initdb", "-D", str(self.data), "-A", "trust", "-U", PG_USER, "-E", "UTF8", "--no-sync")

    def _options(self) -> str:
        # fsync off: a test server; a killed postmaster still recovers from the WAL in the page cache
        return (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
            f" -c max_connections={self.max_connections} -c shared_buffers=32MB"
        )

    def start(self, timeout: float = 120) -> None:
        """initdb on first use, then start and wait until it accepts connections."""
        if not self.data.exists():
            self._init()
        self._ctl("pg_ctl", "-D", str(self.data), "-l", str(self.log_file), "-o", self._options(),
                  "-w", "-t", str(int(timeout)), "start", timeout=timeout + 10)  # fmt: skip

    def restart(self, timeout: float = 120) -> None:
        """Fast shutdown (every session is disconnected), then start again."""
        self._ctl("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=timeout)
        self.start(timeout)

    @property
    def pid(self) -> int | None:
        return pid_from(self.data / "postmaster.pid")

    def is_running(self) -> bool:
        return pid_alive(self.pid)

    def kill(self) -> None:
        """SIGKILL the postmaster (the pid in postmaster.pid) and its backends, as a crash would."""
        pid = self.pid
        if pid is None:
            raise ServerError(f"no postmaster.pid under {self.data}: not started?")
        kill_pid(pid, str(self.data))

    def stop(self, keep: bool = False) -> None:
        """Stop the server (SIGKILL if it will not), then remove its directory unless `keep`."""
        if self.is_running():
            try:
                self._ctl("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
            except ServerError:
                if (pid := self.pid) is not None:
                    kill_pid(pid, str(self.data))
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    async def terminate_backends(self, dbname_prefix: str) -> int:
        """pg_terminate_backend every client session on databases named `dbname_prefix...`."""
        conn = await asyncpg.connect(self.dsn())
        try:
            return int(await conn.fetchval(TERMINATE, dbname_prefix))
        finally:
            await conn.close()

    async def wait_accepting(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                await (await asyncpg.connect(self.dsn(), timeout=5)).close()
                return
            except (OSError, asyncpg.PostgresError) as exc:
                if time.monotonic() > deadline:
                    raise ServerError(f"PostgreSQL on {self.port} not accepting: {exc}") from exc
            await asyncio.sleep(0.2)
