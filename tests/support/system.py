"""The whole system started as `make run` starts it (tools/run.py's plan), for the e2e journeys."""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.support.otlp import Collector
from tests.support.servers import Postgres, Rabbit

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class System:
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]]
    logs: Path
    traces: Collector

    @property
    def gateway(self) -> str:
        return self.env["PUBLIC_BASE_URL"].rstrip("/")

    @property
    def stripe(self) -> str:
        return self.env["STRIPE_API_BASE"]

    @property
    def mailbox(self) -> str:
        return f"http://127.0.0.1:{self.env['MAILBOX_PORT']}"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway, timeout=15)


def system_secrets(postgres: Postgres) -> dict[str, str]:
    """Secrets of this run only, so that a test can look for them in every log line (none may show).

    PostgreSQL trusts local connections and ignores the password; the dev mailbox takes any login.
    """
    database = urlsplit(postgres.dsn(postgres.prefix + "_e2e"))
    password = f"pg-{secrets.token_hex(8)}"
    userinfo = f"{database.username or 'postgres'}:{password}@{database.hostname}:{database.port or 5432}"
    return {
        "STRIPE_SECRET_KEY": f"sk_test_e2e{secrets.token_hex(12)}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_e2e{secrets.token_hex(12)}",
        "SERVICE_TOKEN": f"svc-{secrets.token_urlsafe(24)}",
        "NOTIFIER_SMTP_USERNAME": "paybus",
        "NOTIFIER_SMTP_PASSWORD": f"smtp-{secrets.token_hex(8)}",
        "DATABASE_URL": urlunsplit(database._replace(netloc=userinfo)),
    }


def system_environment(
    run: ModuleType, rabbit: Rabbit, postgres: Postgres, traces: Collector
) -> dict[str, str]:
    ports = {
        k: str(run.free_port())
        for k in (
            "GATEWAY_PORT",
            "ORDERS_PORT",
            "PAYMENTS_PORT",
            "NOTIFIER_PORT",
            "ORDERS_WORKER_PORT",
            "PAYMENTS_WORKER_PORT",
            "NOTIFIER_WORKER_PORT",
            "STRIPE_SIM_PORT",
            "MAILBOX_PORT",
            "SMTP_PORT",
        )
    }
    return {
        **ports,
        "AMQP_URL": rabbit.url,
        "RABBITMQ_MANAGEMENT_URL": rabbit.management_url,
        "DEV_STRIPE": "1",
        "DEV_MAILBOX": "1",
        "ORDER_PAYMENT_TTL": os.environ.get("E2E_ORDER_PAYMENT_TTL", "3600"),
        "STRIPE_SIM_ASYNC_PAYMENT_DELAY": "0.3",
        **system_secrets(postgres),
        # every service exports its spans to the test's collector, in batches 100 ms apart
        "OTEL_EXPORTER_OTLP_ENDPOINT": traces.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        # The reconciliation sweep runs every 5 s (300 by default): it races the webhooks of every
        # journey (one stores each event, the other finds it stored) and repairs paused ones quickly.
        "STRIPE_RECONCILE_INTERVAL": "5",
    }
