"""Chaos room: helpers shared by our servers: free ports, running as another user, killing by pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import psutil


class ServerError(RuntimeError):
    """A server of ours did not start, stop or answer as asked."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_user(user: str, argv: list[str]) -> list[str]:
    """Run as `user` when we are root (RabbitMQ needs its cookie, initdb refuses root)."""
    return ["runuser", "-u", user, "--", *argv] if os.geteuid() == 0 else argv


def give(path: Path, user: str) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user, user)


def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise ServerError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip() or done.stdout}")
    return done.stdout


def kill_pid(pid: int, mark: str, timeout: float = 30) -> None:
    """SIGKILL one process of ours (and the children it had), then wait until it is gone.

    `mark` must appear in the process's command line or environment: a stale pid file whose pid now
    belongs to someone else's process is refused, never killed.
    """
    try:
        proc = psutil.Process(pid)
        if not _carries(proc, mark):
            raise ServerError(f"pid {pid} is not ours (no {mark!r} in its command line or environment)")
        victims = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for victim in victims:
        with contextlib.suppress(psutil.NoSuchProcess):
            victim.send_signal(signal.SIGKILL)
    psutil.wait_procs(victims, timeout=timeout)


def _carries(proc: psutil.Process, mark: str) -> bool:
    with contextlib.suppress(psutil.AccessDenied):
        if any(mark in part for part in proc.cmdline()):
            return True
        return any(mark in value for value in proc.environ().values())
    return False


def pid_alive(pid: int | None) -> bool:
    return pid is not None and psutil.pid_exists(pid)


def pid_from(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
