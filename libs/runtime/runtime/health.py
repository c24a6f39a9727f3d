"""runtime: the one health convention: /healthz (liveness), /readyz (readiness), /metrics (Prometheus).

A check is an async callable that returns None when what it checks is fine and raises otherwise. The
answer names each check with "ok" or "failed", never the error text (that may describe the inside of the
system); the reason goes to the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]  # raises when what it checks is down
Outcome = Literal["ok", "failed"]
CHECK_TIMEOUT = 3.0


class CheckFailed(Exception):
    """What a check raises when the condition it watches does not hold (not an I/O error of its own)."""


@dataclass
class Health:
    """What the health routes of one app report; set as `app.state.health`."""

    ready: Mapping[str, Check] = field(default_factory=dict)  # /readyz
    live: Mapping[str, Check] = field(default_factory=dict)  # /healthz (the loop answering is implied)
    registries: Iterable[CollectorRegistry] = ()
    before_scrape: Iterable[Callable[[], Awaitable[None]]] = ()  # refresh gauges (best effort)


class Report(BaseModel):
    status: Literal["ok", "ready", "unavailable", "failing"]
    checks: dict[str, Outcome] = {}


async def _outcome(name: str, check: Check, within: float) -> Outcome:
    try:
        async with asyncio.timeout(within):
            await check()
    except Exception as exc:  # any failure means "not ok"; the reason is for the log, not the caller
        log.warning("check %s failed: %s: %s", name, type(exc).__name__, exc)
        return "failed"
    return "ok"


async def run_checks(checks: Mapping[str, Check], within: float = CHECK_TIMEOUT) -> dict[str, Outcome]:
    """Every check side by side, each bounded by `within` seconds."""
    names = list(checks)
    outcomes = await asyncio.gather(*(_outcome(name, checks[name], within) for name in names))
    return dict(zip(names, outcomes, strict=True))


def _health(request: Request) -> Health | None:
    health = getattr(request.app.state, "health", None)
    return health if isinstance(health, Health) else None


def _answer(good: str, bad: str, outcomes: dict[str, Outcome], usable: bool = True) -> JSONResponse:
    ok = usable and all(value == "ok" for value in outcomes.values())
    report = Report(status=good if ok else bad, checks=outcomes)
    return JSONResponse(report.model_dump(), status_code=200 if ok else 503)


router = APIRouter(tags=["health"])
_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Report, "description": "a check failed; `checks` names it"}
}


@router.get("/healthz", response_model=Report, responses=_UNAVAILABLE)
async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers (and, in a worker, every supervised task is running)."""
    health = _health(request)
    return _answer("ok", "failing", await run_checks(health.live if health else {}))


@router.get("/readyz", response_model=Report, responses=_UNAVAILABLE)
async def readyz(request: Request) -> JSONResponse:
    """Readiness: what the process depends on answers; 503 naming the checks that failed."""
    health = _health(request)
    outcomes = await run_checks(health.ready) if health else {}
    return _answer("ready", "unavailable", outcomes, usable=health is not None)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    health = _health(request)
    if health is None:
        return Response(b"", media_type=CONTENT_TYPE_LATEST)
    for refresh in health.before_scrape:
        try:
            await asyncio.wait_for(refresh(), CHECK_TIMEOUT)
        except Exception as exc:  # metrics must still answer when a gauge's source is away
            log.warning("metrics refresh failed: %r", exc)
    body = b"".join(generate_latest(registry) for registry in health.registries)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
