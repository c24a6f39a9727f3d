"""gateway settings: ARCHITECTURE.md's ports and PUBLIC_BASE_URL plus GATEWAY_-prefixed knobs."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from runtime import BaseServiceSettings

KIB = 1024


class Settings(BaseServiceSettings):
    """Field names are the environment variables; defaults are the local values. GATEWAY_PORT,
    PUBLIC_BASE_URL and SERVICE_TOKEN (presented to every upstream) come from the base."""

    service: ClassVar[str] = "gateway"
    gateway_host: str = "127.0.0.1"
    orders_port: int = 8001
    payments_port: int = 8002
    notifier_port: int = 8003
    # Unset: http://127.0.0.1:<SERVICE>_PORT, so `make run` only has to set the ports.
    gateway_orders_url: str | None = None
    gateway_payments_url: str | None = None
    gateway_notifier_url: str | None = None
    gateway_max_body: int = 64 * KIB  # JSON and form bodies
    gateway_max_webhook_body: int = 1024 * KIB  # Stripe's events stay far below this
    gateway_connect_timeout: float = 2.0
    gateway_upstream_timeout: float = 10.0  # read/write/pool, per upstream call
    gateway_ready_timeout: float = 2.0  # each upstream's /readyz during GET /readyz
    gateway_max_connections: int = 100
    order_rate_limit: int = Field(default=30, ge=1)  # orders one client may create per minute

    @property
    def orders_url(self) -> str:
        return (self.gateway_orders_url or f"http://127.0.0.1:{self.orders_port}").rstrip("/")

    @property
    def payments_url(self) -> str:
        return (self.gateway_payments_url or f"http://127.0.0.1:{self.payments_port}").rstrip("/")

    @property
    def notifier_url(self) -> str:
        return (self.gateway_notifier_url or f"http://127.0.0.1:{self.notifier_port}").rstrip("/")
