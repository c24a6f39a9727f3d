"""Operational routes: liveness, readiness (database and broker), Prometheus metrics."""

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orders.deps import DepsDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(deps: DepsDep) -> JSONResponse:
    """200 when the database and the broker answer; 503 naming what is down."""
    names = list(deps.checks)
    results = await asyncio.gather(*(deps.checks[name]() for name in names), return_exceptions=True)
    down = [name for name, ok in zip(names, results, strict=True) if ok is not True]
    if down:
        return JSONResponse({"status": "unavailable", "down": down}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
