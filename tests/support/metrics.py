"""Reading a service's /metrics as Prometheus scrapes it, for every test tier."""

from __future__ import annotations

import httpx


async def scrape(client: httpx.AsyncClient) -> str:
    """GET /metrics: it must answer 200 in Prometheus' text exposition format; returns the text."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text
