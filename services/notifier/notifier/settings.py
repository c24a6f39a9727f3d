"""notifier: settings read from the environment (names fixed by ARCHITECTURE.md, or NOTIFIER_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from runtime import BaseServiceSettings


class Settings(BaseServiceSettings):
    service: ClassVar[str] = "notifier"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    mail_from: str = "shop@example.com"
    notifier_shop_email: str | None = (
        None  # the shop's own address for notices (parked payments); None: MAIL_FROM
    )
    mail_per_address_per_hour: int = Field(default=10, ge=1)  # of one kind; the rest are recorded 'held'
    notifier_host: str = "127.0.0.1"
    notifier_port: int = 8003
    notifier_worker_port: int = 8013  # the worker's /healthz, /readyz, /metrics
    notifier_smtp_timeout: float = Field(default=10.0, gt=0)  # connect and each SMTP command
    notifier_smtp_username: str | None = None
    notifier_smtp_password: SecretStr | None = None
    notifier_smtp_starttls: bool = False
    notifier_smtp_connections: int = Field(default=8, ge=1)  # SMTP sessions kept open and reused
    notifier_prefetch: int = Field(default=16, ge=1)  # per queue: e-mails in progress at once
    notifier_topology_prefix: str = ""  # queue and exchange name prefix: isolates a test run
