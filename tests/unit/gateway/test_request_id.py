"""X-Request-ID: a safe caller id is kept, anything else replaced; returned and carried to the services."""

import re

import pytest


async def test_a_safe_request_id_is_echoed_and_carried_to_the_services(client, upstreams):
    response = await client.get("/api/products", headers={"X-Request-ID": "shop-7f3a.2:retry-1"})
    assert response.headers["x-request-id"] == "shop-7f3a.2:retry-1"
    assert upstreams.request_ids == ["shop-7f3a.2:retry-1"]


async def test_without_one_each_request_gets_a_fresh_id(client, upstreams):
    first = (await client.get("/api/products")).headers["x-request-id"]
    second = (await client.get("/api/products")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    assert upstreams.request_ids == [first, second]


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "<script>", "a/b", "é"])
async def test_unsafe_request_ids_are_replaced(client, upstreams, bad):
    response = await client.get("/api/products", headers={"X-Request-ID": bad.encode()})
    rid = response.headers["x-request-id"]
    assert rid != bad
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert upstreams.request_ids == [rid]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/nowhere"),
        ("GET", "/docs"),
        ("GET", "/metrics"),
        ("POST", "/api/orders"),
    ],
)
async def test_every_response_carries_it(client, method, path):
    response = await client.request(method, path, headers={"X-Request-ID": "r-1"})
    assert response.headers["x-request-id"] == "r-1"


async def test_oversize_and_crash_answers_carry_it_too(client, upstreams):
    too_big = await client.post("/api/orders", content=b"x" * 70_000, headers={"X-Request-ID": "r-2"})
    assert (too_big.status_code, too_big.headers["x-request-id"]) == (413, "r-2")
    assert too_big.json()["request_id"] == "r-2"
