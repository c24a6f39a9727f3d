"""Settings every service shares (broker, database server); each service's Settings extends them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/paybus"
# Seconds a service's HTTP server keeps an idle connection: longer than the gateway's client keeps one
# (10 s), so the server never closes a connection the client is about to reuse (the gateway would
# answer that request with a 502).
HTTP_KEEP_ALIVE = 30


class ServiceSettings(BaseSettings):
    """Field names are the environment variables of ARCHITECTURE.md; defaults are the local values."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
    amqp_url: str = DEFAULT_AMQP_URL
    database_url: str = DEFAULT_DATABASE_URL
    # Declare the whole topology at start (dev, tests). Off where least-privilege broker users may not
    # configure, and an operator job imports the definitions instead (deploy/).
    amqp_declare_topology: bool = True

    def database_dsn(self, service: str) -> str:
        """DATABASE_URL's database name is a prefix: `<name>_<service>` is the service's own database."""
        return service_database_dsn(self.database_url, service)


def service_database_dsn(database_url: str, service: str) -> str:
    parts = urlsplit(database_url)
    prefix = parts.path.lstrip("/") or "paybus"
    return urlunsplit((parts.scheme, parts.netloc, f"/{prefix}_{service}", parts.query, parts.fragment))
