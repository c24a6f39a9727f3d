"""The HTTP edge over a real socket: a client too slow with its headers is cut off, one too slow with its
body gets 408; a normal request is served."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest_asyncio
from fastapi import FastAPI, Request

from runtime.http import InLoopServer, config, install_limits
from tests.support.waiting import eventually

READ_TIMEOUT = 0.3


@pytest_asyncio.fixture
async def port() -> AsyncIterator[int]:
    app = FastAPI()
    install_limits(app, max_body=1024, read_timeout=READ_TIMEOUT)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = InLoopServer(config(app, "127.0.0.1", 0, read_timeout=READ_TIMEOUT, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started)
    yield sock.getsockname()[1]
    server.should_exit = True
    await task


async def _exchange(port: int, data: bytes) -> bytes:
    """Send `data`, then read until the server closes the connection (bounded)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_a_request_within_the_limits_is_served(port: int) -> None:
    body = b"x" * 100
    head = f"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    answer = await _exchange(port, head.encode() + body)
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b'{"bytes":100}')


async def test_headers_that_never_finish_get_the_connection_closed(port: int) -> None:
    answer = await _exchange(port, b"POST /echo HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    assert answer == b""  # closed by the server, nothing sent


async def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    assert await _exchange(port, b"") == b""


async def test_a_body_that_stops_arriving_gets_408(port: int) -> None:
    head = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n"
    answer = await _exchange(port, head + b"x" * 10)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"request body not received in time" in answer
