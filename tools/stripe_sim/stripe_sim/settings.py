"""stripe_sim settings: ARCHITECTURE.md's variables plus sim-only STRIPE_SIM_* ones."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_KEY = "sk_test_paybus_local"
LOCAL_WEBHOOK_SECRET = "whsec_paybus_local"
WEBHOOK_PATH = "/payment/webhook/"


class Settings(BaseSettings):
    """Everything the sim reads; sim-only knobs carry the STRIPE_SIM_ prefix."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    stripe_sim_host: str = "127.0.0.1"
    stripe_sim_port: int = 12111
    stripe_webhook_secret: SecretStr = SecretStr(LOCAL_WEBHOOK_SECRET)
    public_base_url: str | None = None
    gateway_port: int = 8000

    stripe_sim_public_url: str | None = None  # base of hosted page urls; default http://host:port
    stripe_sim_webhook_url: str | None = None  # default PUBLIC_BASE_URL + /payment/webhook/; "off" disables
    stripe_sim_webhook_events: str = "*"  # comma-separated event types delivered; "*" and "x.*" patterns
    stripe_sim_chaos: bool = False  # duplicate and reorder webhook deliveries
    stripe_sim_chaos_max_delay: float = 1.0  # seconds; random delay of each chaotic copy
    stripe_sim_retry_base: float = 1.0  # seconds before the first webhook retry, doubling after
    stripe_sim_retry_max: float = 60.0  # cap of the retry delay
    stripe_sim_max_attempts: int = 0  # 0: retry until a 2xx
    stripe_sim_webhook_timeout: float = 10.0
    stripe_sim_webhook_concurrency: int = Field(default=1, ge=1)  # >1: unordered, as Stripe delivers
    stripe_sim_async_payment_delay: float = 0.5  # delayed methods settle after this; 0: synchronously
    stripe_sim_expiry_interval: float = 1.0  # how often open sessions past expires_at are expired
    stripe_sim_min_expires_in: int = 1800  # Stripe: expires_at at least 30 min ahead; lower it for tests

    @property
    def public_url(self) -> str:
        """Base url of the hosted checkout pages."""
        url = self.stripe_sim_public_url or f"http://{self.stripe_sim_host}:{self.stripe_sim_port}"
        return url.rstrip("/")

    @property
    def webhook_url(self) -> str | None:
        """Where events are POSTed, None when delivery is off."""
        if self.stripe_sim_webhook_url is not None:
            url = self.stripe_sim_webhook_url.strip()
            return None if url.lower() in ("", "off", "none") else url
        base = self.public_base_url or f"http://127.0.0.1:{self.gateway_port}"
        return base.rstrip("/") + WEBHOOK_PATH

    @property
    def signing_secret(self) -> str:
        """The first of the comma-separated STRIPE_WEBHOOK_SECRET values signs deliveries."""
        secrets = [s.strip() for s in self.stripe_webhook_secret.get_secret_value().split(",")]
        return next((s for s in secrets if s), LOCAL_WEBHOOK_SECRET)
