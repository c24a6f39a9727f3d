"""payments settings: ARCHITECTURE.md's variables plus PAYMENTS_-prefixed service knobs."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from runtime import BaseServiceSettings

LOCAL_SECRET_KEY = "sk_test_paybus_local"
LOCAL_WEBHOOK_SECRET = "whsec_paybus_local"


class Settings(BaseServiceSettings):
    """Field names are the environment variables; defaults are the local values. PUBLIC_BASE_URL
    (`public_url`) and SERVICE_TOKEN come from the base."""

    service: ClassVar[str] = "payments"

    stripe_secret_key: SecretStr = SecretStr(LOCAL_SECRET_KEY)
    stripe_webhook_secret: SecretStr = SecretStr(LOCAL_WEBHOOK_SECRET)
    stripe_api_base: str | None = None  # unset: real Stripe
    payments_host: str = "127.0.0.1"
    payments_port: int = 8002
    payments_worker_port: int = 8012  # the worker's /healthz, /readyz, /metrics
    # Stripe accepts expires_at 30 min to 24 h ahead; tests against the stand-in lower the minimum.
    payments_min_expires_in: int = 1800
    payments_stripe_timeout: float = 20.0
    payments_stripe_retries: int = 2
    # The worker looks for refunds to issue (second payments) this often, in seconds.
    payments_refund_interval: float = 1.0
    # Seconds between reconciliation sweeps over Stripe's events (the scheduler's period).
    stripe_reconcile_interval: float = Field(default=300.0, gt=0)
    # The orders service's internal API: the order a session charges is read from its owner.
    payments_orders_url: str | None = None  # unset: http://127.0.0.1:$ORDERS_PORT
    orders_port: int = 8001
    # Stripe Tax Rate ids (txr_...) put on every line, comma-separated: inclusive ones, since the order's
    # prices include the tax; an exclusive rate makes Stripe charge more than the order's total, which
    # is parked for review, never applied. Unset: no tax on the session.
    payments_tax_rates: str = Field(default="", pattern=r"^\s*(txr_\w+\s*(,\s*txr_\w+\s*)*)?$")

    @property
    def orders_url(self) -> str:
        return (self.payments_orders_url or f"http://127.0.0.1:{self.orders_port}").rstrip("/")

    @property
    def tax_rates(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.payments_tax_rates.split(",") if r.strip())

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Every comma-separated signing secret: several during a rotation."""
        raw = self.stripe_webhook_secret.get_secret_value().split(",")
        return tuple(s.strip() for s in raw if s.strip())
