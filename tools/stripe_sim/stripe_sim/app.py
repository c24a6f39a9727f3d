"""stripe_sim app factory: create_app(settings) wires routes, errors, headers and the lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stripe_sim import api_checkout, api_objects, api_tax, page, shapes, sim_routes
from stripe_sim.errors import StripeError, unrecognized_url
from stripe_sim.http import request_id
from stripe_sim.runtime import Sim
from stripe_sim.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """A fresh stand-in with its own in-memory state; nothing runs until the app is served."""
    sim = Sim(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with sim.running():
            yield

    app = FastAPI(
        title="stripe-sim", description="Local Stripe stand-in (dev and tests only)", lifespan=lifespan
    )
    app.state.sim = sim
    for module in (api_checkout, api_objects, api_tax, page, sim_routes):
        app.include_router(module.router)
    app.add_exception_handler(StripeError, _stripe_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_middleware(StripeHeaders)
    return app


class StripeHeaders:
    """Request-Id (also on request.state for error bodies) and Stripe-Version on every response.

    Plain ASGI rather than @app.middleware("http"), which runs each request in an extra task.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = shapes.new_id("req", 14)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Request-Id"] = rid
                headers["Stripe-Version"] = shapes.API_VERSION
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _stripe_error(request: Request, exc: StripeError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="Stripe"'} if exc.status == 401 else None
    return JSONResponse(exc.body(request_id(request)), status_code=exc.status, headers=headers)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code in (404, 405):
        error = unrecognized_url(request.method, request.url.path)
    else:
        error = StripeError(exc.status_code, str(exc.detail))
    return await _stripe_error(request, error)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    param = str(first.get("loc", ["", ""])[-1])
    message = f"Invalid {param}: {first.get('msg', 'invalid value')}"
    code = "parameter_missing" if first.get("type") == "missing" else "parameter_invalid"
    return await _stripe_error(request, StripeError(400, message, code=code, param=param))
