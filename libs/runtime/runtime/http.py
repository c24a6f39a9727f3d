"""runtime: the HTTP edge of every service: body-size limit, read timeouts, and uvicorn started once.

uvicorn bounds only the idle time between requests (`timeout_keep_alive`). A client that trickles its
headers is cut off by `HeaderTimeoutProtocol`; one that trickles (or stops sending) its body by
`ReadTimeout`. A client that goes away mid-body is logged at INFO and gets no answer: it is not a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from asyncio import TimerHandle
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import uvicorn
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from runtime.requests import RequestId
from runtime.settings import HTTP_KEEP_ALIVE

log = logging.getLogger(__name__)


async def send_json(send: Send, status: int, body: Mapping[str, Any], *, close: bool = False) -> None:
    data = json.dumps(dict(body)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


Respond = Callable[[Send, int, str, str], Awaitable[None]]  # (send, status, error code, detail)


async def respond_detail(send: Send, status: int, error: str, detail: str) -> None:
    """The services' error body, FastAPI's `{"detail": ...}`; the gateway passes its own shape."""
    await send_json(send, status, {"detail": detail}, close=status == 408)


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class BodyLimit:
    """413 above `limit` bytes (`limits` by exact path override it), before any route reads the body.

    The body is read here in full (it is small by construction) and replayed to the app, so a client
    that disconnects mid-body ends the request here, logged at INFO, without a response.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        limits: Mapping[str, int] | None = None,
        respond: Respond = respond_detail,
    ) -> None:
        self.app = app
        self.limit = limit
        self.limits = dict(limits or {})
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body at all
            return
        if declared is not None and not (declared.isascii() and declared.isdecimal()):
            await self.respond(send, 400, "bad_request", "invalid Content-Length")
            return
        if declared is not None and int(declared) > limit:
            await self.respond(send, 413, "payload_too_large", f"request body larger than {limit} bytes")
            return
        try:
            body = await self._read(receive, limit)
        except ClientGone:
            log.info("client went away mid-body: %s %s", scope["method"], scope["path"])
            return
        if body is None:
            await self.respond(send, 413, "payload_too_large", f"request body larger than {limit} bytes")
            return
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None once it passes `limit` (chunked bodies declare no length)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class _BodyTimeout(Exception):
    """The body did not arrive within the read timeout: answered 408."""


class ReadTimeout:
    """Each wait for a chunk of the request body is bounded; a client too slow gets 408 and is closed.

    Once the body is complete, later receive() calls (a response waiting for a disconnect) are not bounded.
    """

    def __init__(self, app: ASGIApp, timeout: float, respond: Respond = respond_detail) -> None:
        self.app = app
        self.timeout = timeout
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False
        started = False

        async def bounded() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise _BodyTimeout from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, sending)
        except _BodyTimeout:
            log.info(
                "request body not received within %.0fs: %s %s", self.timeout, scope["method"], scope["path"]
            )
            if not started:
                await self.respond(send, 408, "request_timeout", "request body not received in time")


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request headers take too long."""

    header_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self.cycle is None or self.cycle.response_complete:  # still waiting for this request's headers
            log.info("request headers not received within %.0fs; closing", self.header_timeout)
            self.transport.close()


def protocol_with_header_timeout(timeout: float) -> type[HeaderTimeoutProtocol]:
    return type("HeaderTimeout", (HeaderTimeoutProtocol,), {"header_timeout": timeout})


def install_limits(
    app: Any,
    *,
    max_body: int,
    read_timeout: float,
    limits: Mapping[str, int] | None = None,
    respond: Respond = respond_detail,
) -> None:
    """Body limit inside, read timeout around it (Starlette: the middleware added last is outermost)."""
    app.add_middleware(BodyLimit, limit=max_body, limits=limits, respond=respond)
    app.add_middleware(ReadTimeout, timeout=read_timeout, respond=respond)


def install_request_id(app: Any) -> None:
    """`X-Request-ID` in, out and in every log line of the request: call it last, so it is outermost."""
    app.add_middleware(RequestId)


def config(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    read_timeout: float,
    keep_alive: int = HTTP_KEEP_ALIVE,
    **extra: Any,
) -> uvicorn.Config:
    """uvicorn on httptools with the header timeout; its loggers propagate to the process's one handler."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_with_header_timeout(read_timeout),
        ws="none",
        log_config=None,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=keep_alive,
        **extra,
    )


class InLoopServer(uvicorn.Server):
    """uvicorn in a loop someone else runs (a worker's health port, tests): the owner keeps the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_api(
    app: ASGIApp, host: str, port: int, *, read_timeout: float, keep_alive: int = HTTP_KEEP_ALIVE
) -> None:
    uvicorn.Server(config(app, host, port, read_timeout=read_timeout, keep_alive=keep_alive)).run()
