"""Waiting without fixed sleeps: poll a condition until it holds, bounded (Cosmic Python's e2e habit)."""

from __future__ import annotations

import asyncio
import inspect


async def eventually(check, *, timeout: float = 10.0, interval: float = 0.02):  # type: ignore[no-untyped-def]
    """Poll `check` (sync, or returning an awaitable) until it returns a truthy value; bounded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check} (last value {result!r})")
        await asyncio.sleep(interval)
