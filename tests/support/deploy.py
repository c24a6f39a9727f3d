"""The one table compose.yml and the Kubernetes manifests are checked against: processes, ports, variables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
IMAGE = "paybus"  # compose tags it paybus:dev; overlays retag it with `images:`

SHARED = ("AMQP_URL", "DATABASE_URL", "SERVICE_TOKEN")
ENV = {
    "gateway": (
        "SERVICE_TOKEN",
        "GATEWAY_HOST",
        "GATEWAY_PORT",
        "GATEWAY_ORDERS_URL",
        "GATEWAY_PAYMENTS_URL",
        "GATEWAY_NOTIFIER_URL",
        "PUBLIC_BASE_URL",
        "ORDER_RATE_LIMIT",
    ),
    "orders": (*SHARED, "ORDERS_HOST", "ORDERS_PORT", "ORDER_PAYMENT_TTL"),
    "payments": (
        *SHARED,
        "PAYMENTS_HOST",
        "PAYMENTS_PORT",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_API_BASE",
        "PUBLIC_BASE_URL",
        "PAYMENTS_ORDERS_URL",
    ),
    "notifier": (
        *SHARED,
        "NOTIFIER_HOST",
        "NOTIFIER_PORT",
        "SMTP_HOST",
        "SMTP_PORT",
        "MAIL_FROM",
        "PUBLIC_BASE_URL",
        "MAIL_PER_ADDRESS_PER_HOUR",
    ),
}
PORT = {"gateway": 8000, "orders": 8001, "payments": 8002, "notifier": 8003}
WORKER_PORT = {"orders": 8011, "payments": 8012, "notifier": 8013}  # health and metrics
OPTIONAL = {"STRIPE_API_BASE"}  # unset means real Stripe: the base leaves it out, dev sets it
OPERATOR_SECRETS = {"paybus-db-app", "paybus-rabbitmq-default-user"}  # made by CloudNativePG, the operator


@dataclass(frozen=True)
class Process:
    name: str  # compose service and Kubernetes Deployment
    package: str
    role: str  # api or worker

    @property
    def command(self) -> list[str]:
        return ["python", "-m", self.package, self.role]

    @property
    def port(self) -> int:
        """The API's port, or the worker's health port."""
        return PORT[self.package] if self.role == "api" else WORKER_PORT[self.package]

    @property
    def port_variable(self) -> str:
        return f"{self.package.upper()}_PORT" if self.role == "api" else f"{self.package.upper()}_WORKER_PORT"

    @property
    def env(self) -> tuple[str, ...]:
        """Workers call no internal API and serve none but health: they need no SERVICE_TOKEN."""
        return tuple(v for v in ENV[self.package] if self.role == "api" or v != "SERVICE_TOKEN")


PROCESSES = (
    Process("gateway", "gateway", "api"),
    Process("orders-api", "orders", "api"),
    Process("orders-worker", "orders", "worker"),
    Process("payments-api", "payments", "api"),
    Process("payments-worker", "payments", "worker"),
    Process("notifier-api", "notifier", "api"),
    Process("notifier-worker", "notifier", "worker"),
)


def load_all(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def load(path: Path) -> dict[str, Any]:
    (doc,) = load_all(path)
    return doc


def load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def compose() -> dict[str, Any]:
    return load(DEPLOY / "compose.yml")


def kustomization(overlay: str) -> tuple[Path, dict[str, Any]]:
    folder = DEPLOY / "k8s" / overlay
    return folder, load(folder / "kustomization.yaml")


def base_objects() -> list[dict[str, Any]]:
    folder, kust = kustomization("base")
    return [doc for name in kust["resources"] for doc in load_all(folder / name)]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def password_matches(password_hash: str, password: str) -> bool:
    """RabbitMQ's rabbit_password_hashing_sha256 check, as the broker does it at login."""
    import base64
    import hashlib

    raw = base64.b64decode(password_hash)
    return len(raw) == 36 and hashlib.sha256(raw[:4] + password.encode()).digest() == raw[4:]


def dev_users() -> dict[str, str]:
    """User name to password hash in the generated dev definitions."""
    document = load_json(DEPLOY / "rabbitmq" / "definitions.dev.json")
    return {u["name"]: u["password_hash"] for u in document["users"]}
