"""notifier: liveness, readiness (database and broker) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from notifier.deps import ApiDeps, ApiDepsDep, Check
from notifier.domain import EmailState

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 3.0


@router.get("/healthz")
async def get_healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


async def _run(check: Check) -> str | None:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception as exc:  # any failure means "not ready"; its text tells the operator why
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


@router.get("/readyz", responses={503: {"description": "database or broker unreachable"}})
async def get_readyz(deps: ApiDepsDep) -> JSONResponse:
    """Ready when the database and the broker answer; 503 naming what is down otherwise."""
    names = list(deps.checks)
    results = await asyncio.gather(*(_run(deps.checks[name]) for name in names))
    down = {name: error for name, error in zip(names, results, strict=True) if error is not None}
    if down:
        log.warning("not ready: %s", down)
        return JSONResponse({"status": "unavailable", "down": down}, status_code=503)
    return JSONResponse({"status": "ready", "checked": names})


async def _refresh_stored(deps: ApiDeps) -> None:
    try:
        counts = await asyncio.wait_for(deps.count_emails(), CHECK_TIMEOUT)
    except Exception as exc:  # metrics must still answer when the database is away
        log.warning("could not count e-mails for /metrics: %r", exc)
        return
    for state in EmailState:
        deps.metrics.stored.labels(state.value).set(counts.get(state.value, 0))


@router.get("/metrics", response_class=Response)
async def get_metrics(deps: ApiDepsDep) -> Response:
    """Prometheus text format."""
    await _refresh_stored(deps)
    return Response(generate_latest(deps.metrics.registry), media_type=CONTENT_TYPE_LATEST)
