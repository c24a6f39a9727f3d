"""A person in a browser: order in the shop, pay (or cancel) on the Stripe stand-in's page, come back."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.support.browser import chromium
from tests.support.ids import random_ref
from tests.support.system import ARTIFACTS

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest_asyncio.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:  # keep what the person would have seen
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    await context.close()


async def _place_order(page: Page, gateway: str) -> None:
    await page.goto(gateway + "/")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await page.get_by_label(re.compile(r"e-?mail", re.I)).fill(f"{random_ref('shopper')}@example.com")
    await page.locator("input[type=number]").first.fill("1")
    await page.get_by_role("button", name=re.compile(r"order", re.I)).click()
    await expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]+"))
    await page.get_by_role("button", name=re.compile(r"pay", re.I)).click()


async def test_shop_order_pay_by_card_and_the_completed_page_shows_paid(system, page: Page) -> None:
    await _place_order(page, system.gateway)
    await expect(page).to_have_url(re.compile(re.escape(system.stripe)))
    await page.get_by_role("button", name=re.compile(r"pay by card", re.I)).click()
    await expect(page).to_have_url(re.compile(r"/payment/completed/\?session_id=cs_"))
    await expect(page.get_by_text(re.compile(r"\bpaid\b", re.I)).first).to_be_visible(timeout=30_000)


async def test_cancel_on_the_checkout_page_offers_to_try_again(system, page: Page) -> None:
    await _place_order(page, system.gateway)
    await page.get_by_role("button", name=re.compile(r"cancel", re.I)).click()
    await expect(page).to_have_url(re.compile(r"/payment/canceled/"))
    await expect(page.get_by_role("link", name=re.compile(r"try again|pay", re.I)).first).to_be_visible()


async def test_api_docs_render_in_the_browser_with_no_internet(system, page: Page) -> None:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(system.gateway) else outside.append(r.url))
    await page.goto(system.gateway + "/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("paybus gateway")
    await expect(page.get_by_text("/api/orders").first).to_be_visible()
    assert outside == []  # every script, style and the spec came from the gateway
