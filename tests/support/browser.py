"""Debian's Chromium under Playwright, for the tests that are a person in a browser.

The browser is Debian's package (`make browser` installs it), not a Playwright download: there is no
internet here. Without it the test is skipped, or failed under PAYBUS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

from tests.support.servers import unavailable

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for the length of the block; skips (or fails when required) without one."""
    if not HAVE_CHROMIUM:
        unavailable("Debian's chromium is not installed (make browser installs it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()
