"""Every service's API takes X-Request-ID the same way: answered with it, and in its log lines."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import FastAPI

from runtime.http import install_request_id
from runtime.logs import JsonFormatter
from runtime.requests import REQUEST_ID_HEADER, request_id


def _app(lines: list[str]) -> FastAPI:
    app = FastAPI()
    log = logging.getLogger("test.request_id")
    formatter = JsonFormatter("orders", "api")

    @app.get("/x")
    async def x() -> dict[str, str]:
        record = log.makeRecord(log.name, logging.INFO, __file__, 1, "handled", (), None)
        lines.append(formatter.format(record))
        return {"seen": request_id.get()}

    install_request_id(app)
    return app


async def _get(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/x", headers=headers)


async def test_a_safe_request_id_is_kept_answered_and_logged() -> None:
    lines: list[str] = []
    answer = await _get(_app(lines), {REQUEST_ID_HEADER: "req-42"})
    assert answer.headers[REQUEST_ID_HEADER] == "req-42"
    assert answer.json() == {"seen": "req-42"}
    assert json.loads(lines[0])["request_id"] == "req-42"
    assert request_id.get() == "-"  # reset after the request


@pytest.mark.parametrize("sent", [None, "", "a b", "x" * 65, "<script>"])
async def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(sent: str | None) -> None:
    lines: list[str] = []
    answer = await _get(_app(lines), {REQUEST_ID_HEADER: sent} if sent is not None else {})
    rid = answer.headers[REQUEST_ID_HEADER]
    assert rid != sent
    assert len(rid) == 32
    assert json.loads(lines[0])["request_id"] == rid


def test_a_line_logged_outside_a_request_has_no_request_id() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "idle", (), None)
    assert "request_id" not in json.loads(JsonFormatter("orders", "worker").format(record))
