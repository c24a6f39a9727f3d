"""payments settings: ARCHITECTURE.md's variables plus PAYMENTS_-prefixed service knobs."""

from __future__ import annotations

from pydantic import SecretStr

from messaging.settings import ServiceSettings

LOCAL_SECRET_KEY = "sk_test_paybus_local"
LOCAL_WEBHOOK_SECRET = "whsec_paybus_local"


class Settings(ServiceSettings):
    """Field names are the environment variables; defaults are the local values."""

    stripe_secret_key: SecretStr = SecretStr(LOCAL_SECRET_KEY)
    stripe_webhook_secret: SecretStr = SecretStr(LOCAL_WEBHOOK_SECRET)
    stripe_api_base: str | None = None  # unset: real Stripe
    public_base_url: str | None = None
    gateway_port: int = 8000
    payments_host: str = "127.0.0.1"
    payments_port: int = 8002
    # Stripe accepts expires_at 30 min to 24 h ahead; tests against the stand-in lower the minimum.
    payments_min_expires_in: int = 1800
    payments_stripe_timeout: float = 20.0
    payments_stripe_retries: int = 2

    @property
    def public_url(self) -> str:
        return (self.public_base_url or f"http://127.0.0.1:{self.gateway_port}").rstrip("/")

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Every comma-separated signing secret: several during a rotation."""
        raw = self.stripe_webhook_secret.get_secret_value().split(",")
        return tuple(s.strip() for s in raw if s.strip())
