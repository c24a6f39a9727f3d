"""Settings defaults follow ARCHITECTURE.md's ports; the entry point wants a command; nothing at import."""

import pytest

from gateway.__main__ import main
from tests.support.gateway import gateway_settings


def test_upstream_urls_and_public_url_follow_the_ports(monkeypatch):
    for name in ("GATEWAY_PORT", "ORDERS_PORT", "PAYMENTS_PORT", "NOTIFIER_PORT", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    default = gateway_settings()
    assert (default.gateway_host, default.gateway_port) == ("127.0.0.1", 8000)
    assert (default.orders_url, default.payments_url, default.notifier_url) == (
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8002",
        "http://127.0.0.1:8003",
    )
    assert default.public_url == "http://127.0.0.1:8000"
    assert (default.gateway_max_body, default.gateway_max_webhook_body) == (64 * 1024, 1024 * 1024)

    monkeypatch.setenv("GATEWAY_PORT", "9000")
    monkeypatch.setenv("ORDERS_PORT", "9001")
    monkeypatch.setenv("GATEWAY_PAYMENTS_URL", "http://payments.internal:80/")
    moved = gateway_settings()
    assert (moved.orders_url, moved.payments_url, moved.public_url) == (
        "http://127.0.0.1:9001",
        "http://payments.internal:80",
        "http://127.0.0.1:9000",
    )


def test_the_entry_point_wants_the_api_command(capsys):
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "api" in capsys.readouterr().err
