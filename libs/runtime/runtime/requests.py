"""runtime: the request id of the HTTP request being served, the same way in every service's API.

The gateway accepts a caller's `X-Request-ID` (short, safe characters) or makes one, answers with it,
and sends it on every internal call; orders, payments and the notifier take it from that header. While
a request is served it is in `request_id`, and every log line carries it (runtime.logs). It names one
HTTP request; the correlation id of messages is the order id (README, "Correlation").
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REQUEST_ID_HEADER", "RequestId", "accepted_request_id", "request_id"]

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
NONE = "-"

request_id: ContextVar[str] = ContextVar("paybus_request_id", default=NONE)


def accepted_request_id(value: str | None) -> str:
    """The caller's id if short and of safe characters (it lands in logs and headers), else a new one."""
    if value is not None and _SAFE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestId:
    """Outermost layer: sets `request_id` for the request and answers with it in `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = accepted_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
