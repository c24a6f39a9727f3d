"""notifier: settings read from the environment (names fixed by ARCHITECTURE.md, or NOTIFIER_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from notifier.domain import Seller
from runtime import BaseServiceSettings

_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"  # no line breaks or other control characters


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
    # the seller on every invoice, and the series its numbers count in (a new prefix starts at 1)
    shop_name: str = Field(default="paybus shop", min_length=1, max_length=200, pattern=_ONE_LINE)
    shop_address: str = ""  # its lines separated by line breaks (or a written "\n")
    shop_tax_id: str | None = Field(default=None, max_length=50, pattern=_ONE_LINE)  # VAT number, ...
    shop_invoice_prefix: str = Field(default="INV-", max_length=20, pattern=r"^[A-Za-z0-9._/-]*$")

    @field_validator("shop_address")
    @classmethod
    def _address_lines(cls, value: str) -> str:
        lines = _lines(value)
        if len(lines) > 6 or any(len(line) > 200 or not line.isprintable() for line in lines):
            raise ValueError("at most 6 lines of at most 200 printable characters")
        return value

    def seller(self) -> Seller:
        return Seller(
            self.shop_name.strip(), _lines(self.shop_address), (self.shop_tax_id or "").strip() or None
        )


def _lines(address: str) -> tuple[str, ...]:
    """The address's non-empty lines: split at line breaks and at a written `\\n` (shell, .env)."""
    lines = address.replace("\\n", "\n").splitlines()
    return tuple(line.strip() for line in lines if line.strip())
