"""gateway ASGI middleware: request id, metrics and crash containment (body limits: runtime.http)."""

from __future__ import annotations

import json
import logging
import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.metrics import Metrics
from runtime import requests

log = logging.getLogger(__name__)
CLIENT_CLOSED = 499  # nginx's "client closed request": counted apart from the 5xx of our own


async def send_error(send: Send, status: int, error: str, detail: str) -> None:
    """The gateway's JSON error body, for answers made outside FastAPI's exception handlers."""
    body = json.dumps({"error": error, "detail": detail, "request_id": requests.request_id.get()}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    """Inside runtime's RequestId: every response is counted, and a crash is a JSON 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = requests.request_id.get()
        status, responded = 500, False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
            if not responded:  # the client went away before the request was whole: not our failure
                status = CLIENT_CLOSED
        except Exception:
            log.exception("unhandled error on %s %s (request_id=%s)", scope["method"], scope["path"], rid)
            if responded:  # nothing sensible left to send
                raise
            await send_error(send_with_id, 500, "internal_error", "the gateway failed; see its log")
        finally:
            route = _route_label(scope.get("route"))
            self.metrics.observe_request(scope["method"], route, status, time.perf_counter() - started)


def _route_label(route: BaseRoute | None) -> str:
    # The template, not the path: one series per route, however many order ids there are.
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
