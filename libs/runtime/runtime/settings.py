"""runtime: the settings base every service's Settings extends (the shared variables of ARCHITECTURE.md)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator

from messaging.settings import HTTP_KEEP_ALIVE, ServiceSettings

__all__ = ["HTTP_KEEP_ALIVE", "BaseServiceSettings", "Process"]

Process = Literal["api", "worker"]


class BaseServiceSettings(ServiceSettings):
    """AMQP_URL, DATABASE_URL (from ServiceSettings), PUBLIC_BASE_URL, SERVICE_TOKEN and the HTTP limits.

    A subclass names its service (`service = "orders"`) and declares `<service>_host`, `<service>_port`
    and, when it has a worker, `<service>_worker_port`: the variables ARCHITECTURE.md lists.
    """

    service: ClassVar[str] = ""

    gateway_port: int = 8000
    public_base_url: str | None = None  # unset: http://127.0.0.1:$GATEWAY_PORT, derived below, once
    service_token: SecretStr | None = None  # the gateway presents it; internal APIs require it
    http_read_timeout: float = Field(default=30.0, gt=0)  # request headers, and each body chunk
    outbox_max_lag: float = Field(default=120.0, gt=0)  # seconds; a worker is not ready beyond it
    worker_drain_grace: float = Field(default=30.0, ge=0)  # seconds in-flight messages get on stop

    @model_validator(mode="after")
    def _derive_public_url(self) -> BaseServiceSettings:
        self.public_base_url = (self.public_base_url or f"http://127.0.0.1:{self.gateway_port}").rstrip("/")
        return self

    @property
    def public_url(self) -> str:
        """Where customers reach the shop (links in e-mails, Stripe's return URLs); no trailing slash."""
        return self.public_base_url or f"http://127.0.0.1:{self.gateway_port}"

    def address(self, process: Process) -> tuple[str, int]:
        """(host, port) of `python -m <service> api|worker`: <SERVICE>_HOST with <SERVICE>_PORT or
        <SERVICE>_WORKER_PORT."""
        host = getattr(self, f"{self.service}_host")
        port = getattr(self, f"{self.service}_port" if process == "api" else f"{self.service}_worker_port")
        return str(host), int(port)

    def token(self) -> str | None:
        return self.service_token.get_secret_value() if self.service_token else None
