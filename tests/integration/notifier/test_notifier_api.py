"""The API's real dependencies: readiness against the real database and broker, metrics from the DB."""

from __future__ import annotations

import socket

import httpx

from notifier.main import create_app, real_deps_lifespan
from notifier.settings import Settings
from tests.support.events import order_created
from tests.support.notifier_live import settings_for


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)
    async with real_deps_lifespan(settings)(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
            return await client.get(path)


async def test_ready_when_database_and_broker_answer_and_metrics_count_emails(stand, mailbox) -> None:
    await stand.publish(order_created("api@example.com"))
    await mailbox.wait_for_one(timeout=10)
    await stand.drain(consumed=1)
    settings = stand.worker.settings
    response = await _get(settings, "/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    metrics = await _get(settings, "/metrics")
    assert 'notifier_emails_stored{state="sent"} 1.0' in metrics.text


async def test_not_ready_names_the_broker_when_it_is_unreachable(stand) -> None:
    bad = stand.worker.settings.model_copy(
        update={"amqp_url": f"amqp://guest:guest@127.0.0.1:{_closed_port()}/"}
    )
    response = await _get(bad, "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "failed"}


async def test_not_ready_names_the_database_when_it_is_missing_and_logs_why(rabbit, postgres, caplog) -> None:
    settings = settings_for(rabbit, postgres, 25, database_url=postgres.dsn(f"{postgres.prefix}_absent"))
    response = await _get(settings, "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failed", "broker": "ok"}
    assert "does not exist" not in response.text  # the reason is in the log, not in the answer
    assert any("does not exist" in r.getMessage() for r in caplog.records)
