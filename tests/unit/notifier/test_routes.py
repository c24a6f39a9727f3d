"""Health, readiness and metrics routes on create_app(settings, deps=fakes)."""

from __future__ import annotations

import httpx
import pytest

from notifier.deps import ApiDeps
from notifier.main import create_app
from notifier.settings import Settings
from tests.support.metrics import scrape


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionError("connection refused")


async def _counts() -> dict[str, int]:
    return {"sent": 3, "intended": 1}


def _client(deps: ApiDeps) -> httpx.AsyncClient:
    app = create_app(Settings(_env_file=None), deps=deps)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifier")


async def test_healthz_answers_while_everything_else_is_down() -> None:
    async with _client(ApiDeps(checks={"database": _down}, count_emails=_counts)) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


async def test_readyz_is_200_when_database_and_broker_answer() -> None:
    async with _client(ApiDeps(checks={"database": _ok, "broker": _ok}, count_emails=_counts)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


async def test_readyz_is_503_naming_what_is_down() -> None:
    async with _client(ApiDeps(checks={"database": _ok, "broker": _down}, count_emails=_counts)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "failed"}}


async def test_metrics_show_stored_emails_by_state() -> None:
    async with _client(ApiDeps(checks={}, count_emails=_counts)) as client:
        text = await scrape(client)
    assert 'notifier_emails_stored{state="sent"} 3.0' in text
    assert 'notifier_emails_stored{state="failed"} 0.0' in text


async def test_metrics_still_answer_when_the_database_is_down() -> None:
    async def broken() -> dict[str, int]:
        raise ConnectionError("db down")

    async with _client(ApiDeps(checks={}, count_emails=broken)) as client:
        text = await scrape(client)
    assert "notifier_send_seconds" in text


@pytest.mark.parametrize("path", ["/orders", "/emails"])
async def test_there_are_no_other_routes(path: str) -> None:
    async with _client(ApiDeps(checks={}, count_emails=_counts)) as client:
        assert (await client.get(path)).status_code == 404


def test_the_entry_point_refuses_an_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    from notifier.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["serve"])
    assert exited.value.code == 2
    assert "api|worker" in capsys.readouterr().err


def test_public_base_url_defaults_to_the_gateway_port() -> None:
    assert Settings(_env_file=None, gateway_port=9000).public_url == "http://127.0.0.1:9000"
    assert (
        Settings(_env_file=None, public_base_url="https://shop.example/").public_url == "https://shop.example"
    )
