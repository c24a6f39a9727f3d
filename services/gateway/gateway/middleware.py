"""gateway ASGI middleware: request id, metrics and crash containment; request body limits."""

from __future__ import annotations

import json
import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import context
from gateway.metrics import Metrics

log = logging.getLogger(__name__)


async def send_error(send: Send, status: int, error: str, detail: str) -> None:
    """The gateway's JSON error body, for answers made outside FastAPI's exception handlers."""
    body = json.dumps({"error": error, "detail": detail, "request_id": context.request_id.get()}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    """Outermost layer: every response carries X-Request-ID, is counted, and a crash is a JSON 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = context.accepted_request_id(Headers(scope=scope).get(context.REQUEST_ID_HEADER))
        token = context.request_id.set(rid)
        status, responded = 500, False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                MutableHeaders(scope=message)[context.REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s (request_id=%s)", scope["method"], scope["path"], rid)
            if responded:  # nothing sensible left to send
                raise
            await send_error(send_with_id, 500, "internal_error", "the gateway failed; see its log")
        finally:
            route = _route_label(scope.get("route"))
            self.metrics.observe_request(scope["method"], route, status, time.perf_counter() - started)
            context.request_id.reset(token)


def _route_label(route: BaseRoute | None) -> str:
    # The template, not the path: one series per route, however many order ids there are.
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class BodyLimit:
    """413 above `limit` bytes (`limits` by exact path override it); checked before the app reads."""

    def __init__(self, app: ASGIApp, limit: int, limits: dict[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body at all
        elif declared is not None:
            if not (declared.isascii() and declared.isdecimal()):
                await send_error(send, 400, "bad_request", "invalid Content-Length")
            elif int(declared) > limit:
                await _too_large(send, limit)
            else:  # the server holds the client to its Content-Length
                await self.app(scope, receive, send)
        else:
            await self._buffered(scope, receive, send, limit)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """A chunked body: read it up to the limit first, then hand it on in one piece."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    await send_error(send, 413, "payload_too_large", f"the request body exceeds {limit} bytes")
