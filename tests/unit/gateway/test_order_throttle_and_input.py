"""Issue 13: order creation is throttled per client (finding 5); quantities are strict ints (finding 7)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from gateway.deps import Deps
from gateway.main import create_app
from tests.support.gateway import BASE, BROWSER, InMemoryUpstreams, gateway_settings

ORDER = {"email": "ada@example.com", "items": [{"product_id": "blue-mug", "quantity": 1}]}
Client = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def clients(upstreams: InMemoryUpstreams) -> AsyncIterator[Client]:
    """One app (limit 3 a minute); a client per peer address."""
    app = create_app(gateway_settings(order_rate_limit=3), deps=Deps(upstreams=upstreams))
    opened: list[httpx.AsyncClient] = []

    def client(peer: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        opened.append(httpx.AsyncClient(transport=transport, base_url=BASE))
        return opened[-1]

    yield client
    for c in opened:
        await c.aclose()


async def test_a_client_beyond_the_order_rate_limit_gets_429_with_retry_after(clients, upstreams) -> None:  # type: ignore[no-untyped-def]
    mallory, ada = clients("203.0.113.7"), clients("198.51.100.2")

    answers = [(await mallory.post("/api/orders", json=ORDER)).status_code for _ in range(5)]
    refused = await mallory.post("/api/orders", json=ORDER)
    other = await ada.post("/api/orders", json=ORDER)

    assert answers == [201, 201, 201, 429, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many orders" in refused.json()["detail"]
    assert other.status_code == 201
    assert len(upstreams.orders) == 4  # the refused ones never reached orders


async def test_the_shop_form_shares_the_limit_and_shows_a_page(clients, upstreams) -> None:  # type: ignore[no-untyped-def]
    browser = clients("203.0.113.9")
    for _ in range(3):
        await browser.post("/api/orders", json=ORDER)

    page = await browser.post(
        "/shop/orders", data={"email": "ada@example.com", "qty-blue-mug": "1"}, headers=BROWSER
    )

    assert page.status_code == 429
    assert "Retry-After" in page.headers
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("quantity", ["2", True, 2.0, 1.5, 0, 101, None])
async def test_quantities_are_strict_ints(client, upstreams, quantity: object) -> None:  # type: ignore[no-untyped-def]
    body = {"email": "ada@example.com", "items": [{"product_id": "blue-mug", "quantity": quantity}]}

    response = await client.post("/api/orders", json=body)

    assert response.status_code == 422, response.text
    assert upstreams.orders == {}
