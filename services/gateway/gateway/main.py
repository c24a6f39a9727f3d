"""gateway composition root: create_app wires routes, middleware, error handlers and the upstreams."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from gateway import errors
from gateway.deps import Deps
from gateway.http_upstreams import HttpUpstreams, build_client
from gateway.metrics import Metrics
from gateway.middleware import RequestContext, send_error
from gateway.readiness import readiness_checks
from gateway.routes import api, catalogue, payment, shop
from gateway.settings import Settings
from gateway.throttle import OrderThrottle
from runtime import Health
from runtime.health import router as health_router
from runtime.http import install_limits, install_request_id

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/payment/webhook/"
DOCS_ASSETS = "/docs/assets"  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js
DESCRIPTION = (
    "The public face of paybus: the shop pages, a JSON API over the orders and payments services, "
    "and Stripe's webhook. Upstream failures answer 502/503/504 with `{error, detail, request_id}`; "
    "send `X-Request-ID` to follow a request through every service."
)


def real_deps_lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstreams = HttpUpstreams(build_client(settings), settings, app.state.metrics)
        _use(app, Deps(upstreams=upstreams))
        log.info(
            "gateway public at %s; orders %s, payments %s, notifier %s",
            settings.public_url,
            settings.orders_url,
            settings.payments_url,
            settings.notifier_url,
        )
        if settings.token() is None:
            log.error("SERVICE_TOKEN is unset: the services will refuse the gateway's calls")
        try:
            yield
        finally:
            await upstreams.aclose()

    return lifespan


def _use(app: FastAPI, deps: Deps | None) -> None:
    app.state.deps = deps
    checks = readiness_checks(deps.upstreams) if deps is not None else {}
    app.state.health = Health(ready=checks, registries=[app.state.metrics.registry]) if deps else None


def create_app(settings: Settings, deps: Deps | None = None) -> FastAPI:
    # Swagger UI and ReDoc with their scripts served from here, not a CDN: /docs works offline
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        title="paybus gateway",
        summary="Shop pages and JSON API",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=None if deps else real_deps_lifespan(settings),
    )
    app.state.metrics = Metrics()
    _use(app, deps)  # fakes from tests; else set by the lifespan
    app.state.throttle = OrderThrottle(settings.order_rate_limit)
    errors.install(app)
    for module in (shop, payment, api, catalogue):
        app.include_router(module.router)
    app.include_router(health_router)
    install_limits(
        app,
        max_body=settings.gateway_max_body,
        limits={WEBHOOK_PATH: settings.gateway_max_webhook_body},
        read_timeout=settings.http_read_timeout,
        respond=send_error,
    )
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    install_request_id(app)  # added last: outermost
    return app
