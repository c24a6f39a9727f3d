"""gateway health: liveness, aggregated readiness of the services, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import JsonValue

from gateway.deps import UpstreamsDep
from gateway.metrics import Metrics

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Some services are not ready; `down` names them"}})
async def readyz(upstreams: UpstreamsDep) -> JSONResponse:
    """Ready when orders, payments and notifier are (each checks its own broker and database)."""
    checks = await upstreams.readiness()
    down = sorted(name for name, check in checks.items() if not check.ready)
    services: dict[str, JsonValue] = {
        name: {"ready": check.ready, "detail": check.detail} for name, check in checks.items()
    }
    body: dict[str, JsonValue] = {
        "status": "unavailable" if down else "ok",
        "down": list(down),
        "services": services,
    }
    return JSONResponse(body, status_code=503 if down else 200)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests by route and status, upstream call latency."""
    registry = request.app.state.metrics
    assert isinstance(registry, Metrics)
    return Response(registry.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
