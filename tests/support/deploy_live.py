"""The exported RabbitMQ definitions imported into a vhost of their own, and the users they create."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from messaging.broker import Broker
from tests.support.servers import Rabbit

Connect = Callable[[str], Awaitable[Broker]]


@dataclass
class Secured:
    """The imported document, its vhost and prefix, and each user's password."""

    rabbit: Rabbit
    vhost: str
    prefix: str
    document: dict[str, Any]
    passwords: dict[str, str]

    def user(self, role: str) -> str:
        return self.prefix + role

    def url(self, role: str) -> str:
        base = urlsplit(self.rabbit.base_url)
        user = self.user(role)
        netloc = f"{quote(user, safe='')}:{self.passwords.get(user, '')}@{base.hostname}:{base.port or 5672}"
        return urlunsplit((base.scheme, netloc, "/" + quote(self.vhost, safe=""), "", ""))


async def import_definitions(rabbit: Rabbit, document: dict[str, Any]) -> None:
    """POST a definitions document to the management API, as an operator's import does."""
    parts = urlsplit(rabbit.base_url)
    auth = (parts.username or "guest", parts.password or "guest")
    async with httpx.AsyncClient(base_url=rabbit.management_url, auth=auth, timeout=30) as http:
        (await http.post("/api/definitions", json=document)).raise_for_status()
