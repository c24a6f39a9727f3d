"""The settings base (PUBLIC_BASE_URL derived once, addresses by service) and the entry point."""

from __future__ import annotations

from typing import ClassVar

import pytest
from fastapi import FastAPI

from runtime.entry import Command, main
from runtime.settings import BaseServiceSettings
from tests.support.tracing import uninstrument


@pytest.fixture(autouse=True)
def _untraced_after() -> object:
    """main() instruments aio-pika, asyncpg and httpx process-wide; later tests expect plain libraries."""
    yield
    uninstrument()


class Settings(BaseServiceSettings):
    service: ClassVar[str] = "demo"
    demo_host: str = "127.0.0.1"
    demo_port: int = 8101
    demo_worker_port: int = 8111


def test_public_url_follows_the_gateway_port_unless_set(monkeypatch) -> None:
    for name in ("PUBLIC_BASE_URL", "GATEWAY_PORT", "SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:8000"  # type: ignore[call-arg]
    monkeypatch.setenv("GATEWAY_PORT", "9000")
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:9000"  # type: ignore[call-arg]
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.public_url == settings.public_base_url == "https://shop.example"
    assert settings.token() is None


def test_addresses_come_from_the_service_variables(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_WORKER_PORT", "9111")
    monkeypatch.setenv("SERVICE_TOKEN", "abc")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.address("api") == ("127.0.0.1", 8101)
    assert settings.address("worker") == ("127.0.0.1", 9111)
    assert settings.token() == "abc"
    assert "abc" not in repr(settings)


def _app(settings: Settings) -> FastAPI:
    raise AssertionError("not started in these tests")


def test_the_entry_point_wants_a_known_command(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main([], service="demo", settings=Settings, api=_app)
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        main(["worker"], service="demo", settings=Settings, api=_app)  # no worker: not a command
    assert "api" in capsys.readouterr().err


def test_extra_commands_get_their_arguments_and_return_their_status() -> None:
    seen = []

    def run(args) -> int:  # type: ignore[no-untyped-def]
        seen.append(args.since)
        return 3

    def arguments(parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--since", type=int, default=0)

    command = Command("one sweep", run, arguments)
    status = main(
        ["sweep", "--since", "60"], service="demo", settings=Settings, api=_app, commands={"sweep": command}
    )
    assert (status, seen) == (3, [60])


def test_a_malformed_otlp_endpoint_stops_the_process_before_anything_runs(monkeypatch) -> None:
    seen = []
    command = Command("one sweep", lambda args: seen.append(args) or 0)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "jaeger:4318")
    with pytest.raises(
        SystemExit, match=r"python -m demo: OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL"
    ):
        main(["sweep"], service="demo", settings=Settings, api=_app, commands={"sweep": command})
    assert seen == []
