"""Liveness, aggregated readiness, Prometheus metrics and the OpenAPI document."""

import uuid

from gateway.upstreams import UpstreamUnavailable
from messaging import asyncapi
from tests.support.metrics import scrape


async def test_healthz_answers_without_asking_anyone(client, upstreams):
    upstreams.failure = UpstreamUnavailable("orders", "down")
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "checks": {}})


async def test_readyz_is_200_when_every_service_is_ready(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"orders": "ok", "payments": "ok", "notifier": "ok"},
    }


async def test_readyz_is_503_naming_the_services_that_are_down(client, upstreams):
    upstreams.ready["payments"] = upstreams.ready["notifier"] = False
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"orders": "ok", "payments": "failed", "notifier": "failed"},
    }
    assert "database down" not in response.text  # the public port tells no internal detail


async def test_metrics_count_requests_by_route_template_and_status(client):
    for _ in range(3):
        await client.get(f"/api/orders/{uuid.uuid4()}")
    await client.get("/api/products")
    await client.get("/no/such/page")
    text = await scrape(client)
    assert 'gateway_http_requests_total{method="GET",route="/api/orders/{order_id}",status="404"} 3.0' in text
    assert 'gateway_http_requests_total{method="GET",route="/api/products",status="200"} 1.0' in text
    assert 'gateway_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert (
        'gateway_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/products"' in text
    )


async def test_openapi_documents_every_public_route_with_examples(client):
    spec = (await client.get("/openapi.json")).json()
    assert set(spec["paths"]) >= {
        "/",
        "/api/products",
        "/api/orders",
        "/api/orders/{order_id}",
        "/api/orders/{order_id}/checkout",
        "/payment/process/",
        "/payment/completed/",
        "/payment/canceled/",
        "/payment/webhook/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/orders/{order_id}",
    }
    schemas = spec["components"]["schemas"]
    for model in ("Product", "OrderCreate", "Order", "CheckoutSession", "ErrorBody"):
        assert schemas[model]["examples"], model
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_api_docs_load_their_scripts_from_the_gateway_not_a_cdn(client) -> None:
    for page, assets in (
        ("/docs", ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css")),
        ("/redoc", ("/docs/assets/redoc.standalone.js",)),
    ):
        html = (await client.get(page)).text
        assert "cdn.jsdelivr.net" not in html
        assert "unpkg.com" not in html
        for asset in assets:
            assert f'"{asset}"' in html or f"'{asset}'" in html, asset
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 100_000, asset


async def test_the_gateway_serves_the_asyncapi_document_of_the_public_exchanges(client) -> None:
    response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.json() == asyncapi.document()
    assert {c["address"] for c in response.json()["channels"].values()} == {
        "payments.events",
        "payments.broadcast",
        "orders.events",
    }
