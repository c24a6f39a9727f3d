"""Request bodies: 64 KiB for JSON and forms, 1 MiB for the webhook; 413 above, and nothing forwarded."""

import uuid
from collections.abc import AsyncIterator

import pytest

KIB = 1024


async def _chunks(total: int, size: int = 8 * KIB) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        step = min(size, total - sent)
        sent += step
        yield b"x" * step


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/orders", "application/json"),
        ("/shop/orders", "application/x-www-form-urlencoded"),
        ("/payment/process/", "application/x-www-form-urlencoded"),
        (f"/api/orders/{uuid.uuid4()}/checkout", "application/json"),
    ],
)
async def test_json_and_form_bodies_above_64_kib_get_413(client, upstreams, path, content_type):
    response = await client.post(path, content=b"a" * (64 * KIB + 1), headers={"Content-Type": content_type})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert upstreams.request_ids == []


async def test_a_chunked_body_above_the_limit_gets_413(client, upstreams):
    response = await client.post(
        "/api/orders", content=_chunks(64 * KIB + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert upstreams.request_ids == []


async def test_a_chunked_body_within_the_limit_is_read_whole(client, upstreams):
    body = b'{"email": "ada@example.com", "items": [{"product_id": "tea", "quantity": 1}]}'

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 7):
            yield body[i : i + 7]

    response = await client.post(
        "/api/orders", content=pieces(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201


async def test_webhook_accepts_up_to_1_mib(client, upstreams):
    body = b"{" + b" " * (1024 * KIB - 2) + b"}"
    response = await client.post("/payment/webhook/", content=body, headers={"Stripe-Signature": "t=1,v1=a"})
    assert response.status_code == 200
    assert upstreams.webhooks[0][0] == body


@pytest.mark.parametrize("chunked", [False, True])
async def test_webhook_above_1_mib_gets_413_and_is_not_forwarded(client, upstreams, chunked):
    size = 1024 * KIB + 1
    content = _chunks(size) if chunked else b"x" * size
    response = await client.post(
        "/payment/webhook/", content=content, headers={"Stripe-Signature": "t=1,v1=a"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == f"request body larger than {1024 * KIB} bytes"
    assert upstreams.webhooks == []


async def test_an_invalid_content_length_gets_400(client, upstreams):
    response = await client.post("/api/orders", content=b"{}", headers={"Content-Length": "-1"})
    assert response.status_code == 400
    assert upstreams.request_ids == []


async def test_a_client_gone_mid_body_is_logged_at_info_and_counted_as_499_not_500(upstreams, caplog):
    import logging

    from gateway.deps import Deps
    from gateway.main import create_app
    from tests.support.gateway import gateway_settings

    caplog.set_level(logging.INFO)
    app = create_app(gateway_settings(), deps=Deps(upstreams=upstreams))
    messages = [
        {"type": "http.request", "body": b'{"email": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
    scope = {
        "type": "http", "method": "POST", "path": "/api/orders", "raw_path": b"/api/orders",
        "headers": headers, "query_string": b"", "http_version": "1.1", "scheme": "http",
        "server": ("gw", 80), "client": ("10.0.0.1", 5000), "root_path": "", "app": app,
    }  # fmt: skip
    await app(scope, receive, send)
    assert sent == []
    assert upstreams.request_ids == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("went away" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    metrics = app.state.metrics.render().decode()
    assert 'status="499"' in metrics
    assert 'status="500"' not in metrics
