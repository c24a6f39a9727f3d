"""The payments API answers only callers presenting SERVICE_TOKEN, except its health routes."""

from __future__ import annotations

import httpx

from payments.main import create_app
from tests.support.payments import make_deps


async def test_checkout_and_webhook_want_the_service_token_and_health_does_not() -> None:
    deps = make_deps()
    transport = httpx.ASGITransport(app=create_app(deps.settings, deps))
    async with httpx.AsyncClient(transport=transport, base_url="http://payments") as client:
        refused = [
            await client.post("/checkout-sessions", json={"order_id": "x"}),
            await client.get("/checkout-sessions/cs_1"),
            await client.post("/webhook", content=b"{}", headers={"Authorization": "Bearer wrong"}),
        ]
        probes = [(await client.get(path)).status_code for path in ("/healthz", "/readyz", "/metrics")]
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert all("SERVICE_TOKEN" in r.json()["detail"] for r in refused)
    assert probes == [200, 200, 200]
    assert deps.store.state.events == {}  # type: ignore[attr-defined]
