"""payments health routes: liveness, readiness (database and broker), Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from payments.deps import DepsDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(deps: DepsDep) -> JSONResponse:
    """Database and broker reachable; 503 naming what is down."""
    down: list[str] = []
    try:
        await deps.store.ping()
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        log.warning("readiness: database down: %r", exc)
        down.append("database")
    if not await deps.broker_ready():
        down.append("broker")
    if down:
        return JSONResponse({"status": "unavailable", "down": down}, status.HTTP_503_SERVICE_UNAVAILABLE)
    return JSONResponse({"status": "ready", "down": []})


@router.get("/metrics")
async def metrics(deps: DepsDep) -> Response:
    """Prometheus text format."""
    return Response(generate_latest(deps.metrics.registry), media_type=CONTENT_TYPE_LATEST)
