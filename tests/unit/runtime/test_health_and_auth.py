"""The health router (one check convention, no error text out) and the service-token guard."""

from __future__ import annotations

import logging

import httpx
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry, Counter

from runtime.auth import SERVICE_TOKEN_REQUIRED, UNAUTHORIZED, protect
from runtime.health import Health
from runtime.health import router as health_router
from tests.support.metrics import scrape

TOKEN = "s3cret-token"


async def _ok() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError(111, "Connection refused to 10.0.0.7:5432")


def _app(health: Health | None, token: str | None = TOKEN) -> FastAPI:
    app = FastAPI()
    internal = APIRouter()

    @internal.get("/orders")
    async def list_orders() -> list[str]:
        return ["o1"]

    app.include_router(internal, dependencies=SERVICE_TOKEN_REQUIRED, responses=UNAUTHORIZED)
    app.include_router(health_router)
    protect(app, token)
    if health is not None:
        app.state.health = health
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_readyz_is_200_naming_each_check_ok() -> None:
    async with _client(_app(Health(ready={"database": _ok, "broker": _ok}))) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


async def test_readyz_is_503_naming_the_failed_check_without_its_error_text(caplog) -> None:
    async with _client(_app(Health(ready={"database": _refused, "broker": _ok}))) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "failed", "broker": "ok"}}
    assert "10.0.0.7" not in response.text
    assert "refused" not in response.text.lower()
    logged = [r for r in caplog.records if r.levelno == logging.WARNING and "database" in r.getMessage()]
    assert logged
    assert "10.0.0.7" in logged[0].getMessage()


async def test_readyz_is_503_before_the_lifespan_built_the_checks() -> None:
    async with _client(_app(None)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503


async def test_healthz_answers_while_readiness_fails_and_reports_failed_liveness_checks() -> None:
    async with _client(_app(Health(ready={"database": _refused}))) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    async with _client(_app(Health(live={"relay": _refused}))) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "checks": {"relay": "failed"}}


async def test_metrics_are_prometheus_text_from_every_registry_refreshed_first() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    Counter("first_things", "a", registry=first).inc()
    counted = Counter("second_things", "b", registry=second)

    async def refresh() -> None:
        counted.inc(2)

    async def broken_refresh() -> None:
        raise ConnectionError("db down")

    health = Health(registries=[first, second], before_scrape=[broken_refresh, refresh])
    async with _client(_app(health)) as client:
        text = await scrape(client)
    assert "first_things_total 1.0" in text
    assert "second_things_total 2.0" in text


async def test_internal_routes_want_the_service_token_and_health_routes_do_not() -> None:
    async with _client(_app(Health(ready={"database": _ok}))) as client:
        missing = await client.get("/orders")
        wrong = await client.get("/orders", headers={"Authorization": "Bearer nope"})
        basic = await client.get("/orders", headers={"Authorization": f"Basic {TOKEN}"})
        right = await client.get("/orders", headers={"Authorization": f"Bearer {TOKEN}"})
        probes = [(await client.get(path)).status_code for path in ("/healthz", "/readyz", "/metrics")]
    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "SERVICE_TOKEN" in refused.json()["detail"]
    assert right.status_code == 200
    assert right.json() == ["o1"]
    assert probes == [200, 200, 200]


async def test_without_a_configured_token_every_internal_route_is_refused() -> None:
    async with _client(_app(Health(), token=None)) as client:
        response = await client.get("/orders", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_openapi_documents_the_bearer_scheme_the_401_and_metrics_as_text() -> None:
    schema = _app(Health()).openapi()
    assert schema["components"]["securitySchemes"]["ServiceToken"]["scheme"] == "bearer"
    orders = schema["paths"]["/orders"]["get"]
    assert orders["security"] == [{"ServiceToken": []}]
    assert "401" in orders["responses"]
    assert "security" not in schema["paths"]["/readyz"]["get"]
    assert "503" in schema["paths"]["/readyz"]["get"]["responses"]
    assert list(schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
