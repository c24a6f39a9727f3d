"""The hosted page in Chromium: "Pay by card" works with a non-ASCII e-mail pre-filled.

A `type=email` input refuses a non-ASCII local part (`jürgen@...`), so the browser blocked the form
and the button silently did nothing; the field is a text input with `inputmode=email` now.
"""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
import stripe
from playwright.async_api import Browser, expect

from stripe_sim.testing import RunningSim
from tests.support.browser import chromium
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)
EMAIL = "jürgen.müller@example.com"


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


async def _session(aclient: stripe.StripeClient, sim: RunningSim) -> stripe.checkout.Session:
    back = f"{sim.base_url}/pay/{{CHECKOUT_SESSION_ID}}"  # the page again: "already complete"
    return await aclient.v1.checkout.sessions.create_async(
        session_params(customer_email=EMAIL, success_url=back)
    )


async def test_the_email_field_takes_what_stripe_takes(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    session = await _session(aclient, sim)

    async with httpx.AsyncClient() as http:
        html = (await http.get(str(session.url))).text

    field = re.search(r'<input[^>]*name="email"[^>]*>', html, re.S)
    assert field is not None
    assert 'type="text"' in field[0]
    assert 'inputmode="email"' in field[0]
    assert f'value="{EMAIL}"' in field[0]
    assert 'type="email"' not in html


async def test_pay_by_card_in_chromium_with_a_non_ascii_email(
    browser: Browser, aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    session = await _session(aclient, sim)
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        await page.goto(str(session.url))
        email = page.get_by_label("Email")
        await expect(email).to_have_value(EMAIL)
        assert await email.evaluate("field => field.checkValidity()") is True
        await page.get_by_role("button", name=re.compile(r"pay by card", re.I)).click()
        await expect(page.get_by_role("status")).to_contain_text("already complete")
    finally:
        await context.close()

    paid = await aclient.v1.checkout.sessions.retrieve_async(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.customer_details is not None
    assert paid.customer_details.email == EMAIL
