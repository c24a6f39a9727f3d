"""gateway exception handlers: upstream failures as JSON (or a page for browsers), 4xx passed through."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from gateway import pages
from gateway.upstreams import Rejected, UpstreamError
from runtime import requests

log = logging.getLogger(__name__)
PAGES_TAG = "pages"
_TITLES = {
    400: "Bad request",
    404: "Not found",
    409: "Not possible right now",
    422: "Check your input",
    429: "Too many orders",
    502: "Something went wrong",
    503: "Temporarily unavailable",
    504: "Taking too long",
}
_UPSTREAM_MESSAGE = "Part of the shop is not answering right now. Please try again in a moment."


def wants_page(request: Request) -> bool:
    """Browsers on a page route get an HTML page; programs (and every JSON route) get JSON."""
    route = request.scope.get("route")
    on_page = PAGES_TAG in route.tags if isinstance(route, APIRoute) else route is None
    return on_page and "text/html" in request.headers.get("accept", "")


def error_page(status: int, message: str) -> Response:
    return pages.render("error.html", status, title=_TITLES.get(status, "Error"), message=message)


async def on_upstream_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UpstreamError)
    log.warning("answering %s: %s (request_id=%s)", exc.status, exc, requests.request_id.get())
    if wants_page(request):
        return error_page(exc.status, _UPSTREAM_MESSAGE)
    body = {"error": exc.error, "detail": exc.detail, "request_id": requests.request_id.get()}
    return JSONResponse(body, status_code=exc.status)


async def on_rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Rejected)
    if wants_page(request):
        return error_page(exc.status, exc.detail or "The request was not accepted.")
    return JSONResponse(exc.body, status_code=exc.status)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if wants_page(request):
        message = exc.detail if isinstance(exc.detail, str) else "The request was not accepted."
        page = error_page(exc.status_code, message)
        page.headers.update(exc.headers or {})  # e.g. Retry-After on a 429
        return page
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(UpstreamError, on_upstream_error)
    app.add_exception_handler(Rejected, on_rejected)
    app.add_exception_handler(HTTPException, on_http_exception)
