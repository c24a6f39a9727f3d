"""Body limit and read timeout as ASGI middleware: 413, 408, and a client gone mid-body is no 500."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from runtime.http import BodyLimit, ReadTimeout


class App:
    """Echoes the body it read; records whether it was called."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def _scope(headers: dict[str, str], path: str = "/orders") -> Scope:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": "POST", "path": path, "headers": raw}


async def _call(app: Any, scope: Scope, messages: list[Message], *, then_wait: bool = False) -> list[Message]:
    sent: list[Message] = []
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then_wait:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _chunk(body: bytes, more: bool) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_a_declared_length_above_the_limit_gets_413_before_the_app_runs() -> None:
    inner = App()
    sent = await _call(
        BodyLimit(inner, limit=10), _scope({"content-length": "11"}), [_chunk(b"x" * 11, False)]
    )
    assert sent[0]["status"] == 413
    assert b"larger than 10 bytes" in sent[1]["body"]
    assert not inner.called


async def test_a_chunked_body_above_the_limit_gets_413_and_one_within_is_replayed_whole() -> None:
    chunked = _scope({"transfer-encoding": "chunked"})
    big = await _call(BodyLimit(App(), limit=10), chunked, [_chunk(b"x" * 6, True), _chunk(b"x" * 6, False)])
    assert big[0]["status"] == 413
    small = await _call(BodyLimit(App(), limit=10), chunked, [_chunk(b"abc", True), _chunk(b"def", False)])
    assert small[0]["status"] == 200
    assert small[1]["body"] == b"abcdef"


async def test_per_path_limits_and_invalid_lengths() -> None:
    limited = BodyLimit(App(), limit=4, limits={"/webhook": 100})
    webhook = await _call(limited, _scope({"content-length": "50"}, "/webhook"), [_chunk(b"x" * 50, False)])
    assert webhook[0]["status"] == 200
    bad = await _call(limited, _scope({"content-length": "1e3"}), [])
    assert bad[0]["status"] == 400


async def test_a_client_gone_mid_body_is_logged_at_info_and_gets_no_response(caplog) -> None:
    caplog.set_level(logging.INFO)
    inner = App()
    sent = await _call(
        BodyLimit(inner, limit=100), _scope({"content-length": "50"}), [_chunk(b"x" * 10, True)]
    )
    assert sent == []
    assert not inner.called
    (record,) = [r for r in caplog.records if "went away" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert record.exc_info is None


async def test_a_body_that_stops_arriving_gets_408_and_the_connection_closed(caplog) -> None:
    caplog.set_level(logging.INFO)
    app = ReadTimeout(BodyLimit(App(), limit=100), timeout=0.05)
    sent = await _call(app, _scope({"content-length": "50"}), [_chunk(b"x" * 10, True)], then_wait=True)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert any("not received within" in r.getMessage() for r in caplog.records)


async def test_a_complete_body_passes_the_read_timeout_and_later_receives_are_not_bounded() -> None:
    app = ReadTimeout(App(), timeout=0.05)
    sent = await _call(app, _scope({"content-length": "3"}), [_chunk(b"abc", False)], then_wait=False)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"abc"
