"""The event loop every paybus process runs on: uvloop (libuv) where it is installed, else asyncio's own.

uvloop serves the same asyncio API with its I/O in C; aio-pika, asyncpg, httpx and uvicorn run on it
unchanged, and uvicorn picks it by itself (loop="auto"). Workers and CLIs start through `run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop has no Windows build; asyncio's loop is the fallback
    uvloop = None  # type: ignore[assignment]


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on uvloop when available."""
    if uvloop is None:  # pragma: no cover
        return asyncio.run(main)
    return uvloop.run(main)
