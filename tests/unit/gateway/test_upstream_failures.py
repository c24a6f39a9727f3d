"""Upstream failures become 502/503/504 with a JSON body (a page for browsers), never a traceback."""

import uuid

import pytest

from gateway.upstreams import BadUpstreamResponse, UpstreamTimeout, UpstreamUnavailable
from tests.support.gateway import BROWSER

FAILURES = [
    (BadUpstreamResponse("orders", "orders answered 500"), 502, "bad_upstream_response"),
    (UpstreamUnavailable("orders", "orders is unreachable"), 503, "upstream_unavailable"),
    (UpstreamTimeout("payments", "payments did not answer in time"), 504, "upstream_timeout"),
]
API_CALLS = [
    ("GET", "/api/products", None),
    ("POST", "/api/orders", {"email": "a@b.c", "items": [{"product_id": "tea", "quantity": 1}]}),
    ("GET", f"/api/orders/{uuid.uuid4()}", None),
    ("POST", f"/api/orders/{uuid.uuid4()}/checkout", None),
]


@pytest.mark.parametrize(("failure", "status", "error"), FAILURES)
@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
async def test_api_routes_map_upstream_failures_to_json(
    client, upstreams, failure, status, error, method, path, body
):
    upstreams.failure = failure
    response = await client.request(method, path, json=body, headers={"X-Request-ID": "trace-1"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": error, "detail": failure.detail, "request_id": "trace-1"}


@pytest.mark.parametrize(("failure", "status", "error"), FAILURES)
async def test_webhook_and_pages_answer_json_to_programs(client, upstreams, failure, status, error):
    upstreams.failure = failure
    for response in (
        await client.post("/payment/webhook/", content=b"{}", headers={"Stripe-Signature": "t=1,v1=x"}),
        await client.get("/"),
        await client.post("/payment/process/", data={"order_id": str(uuid.uuid4())}),
    ):
        assert response.status_code == status
        assert response.json()["error"] == error


@pytest.mark.parametrize(("failure", "status", "error"), FAILURES)
async def test_browsers_get_a_friendly_page_with_the_same_status(client, upstreams, failure, status, error):
    upstreams.failure = failure
    response = await client.get(f"/orders/{uuid.uuid4()}", headers=BROWSER | {"X-Request-ID": "trace-2"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "not answering right now" in response.text
    assert "trace-2" in response.text
    assert "Traceback" not in response.text
    assert failure.detail not in response.text  # internals stay in the log


async def test_a_crash_is_a_json_500_with_the_request_id_and_no_traceback(client, upstreams, caplog):
    upstreams.failure = RuntimeError("secret internals")
    response = await client.get("/api/products", headers={"X-Request-ID": "trace-3"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-3"
    assert response.json() == {
        "error": "internal_error",
        "detail": "the gateway failed; see its log",
        "request_id": "trace-3",
    }
    assert "secret internals" not in response.text
    assert "trace-3" in caplog.text
