"""A small client of RabbitMQ's management HTTP API: vhosts, permissions, queues, connections."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import httpx

__all__ = ["Management", "management_url"]


def management_url(amqp_url: str, port: int = 15672) -> str:
    """The management API next to a broker URL (same host, the plugin's default port)."""
    parts = urlsplit(amqp_url)
    return f"http://{parts.hostname or '127.0.0.1'}:{port}"


def _q(name: str) -> str:
    return quote(name, safe="")


class Management:
    def __init__(
        self, base_url: str, user: str = "guest", password: str = "guest", timeout: float = 10
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/api", auth=(user, password), timeout=timeout
        )

    @classmethod
    def for_amqp_url(cls, amqp_url: str, base_url: str | None = None, timeout: float = 30) -> Management:
        parts = urlsplit(amqp_url)
        user, password = parts.username or "guest", parts.password or "guest"
        return cls(base_url or management_url(amqp_url), user, password, timeout=timeout)

    async def __aenter__(self) -> Management:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, **params: Any) -> Any:
        response = await self._http.get(path, params=params or None)
        response.raise_for_status()
        return response.json()

    async def overview(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._get("/overview")
        return result

    async def create_vhost(self, vhost: str) -> None:
        (await self._http.put(f"/vhosts/{_q(vhost)}", json={})).raise_for_status()

    async def delete_vhost(self, vhost: str) -> None:
        response = await self._http.delete(f"/vhosts/{_q(vhost)}")
        if response.status_code != 404:
            response.raise_for_status()

    async def set_permissions(
        self, vhost: str, user: str, configure: str = ".*", write: str = ".*", read: str = ".*"
    ) -> None:
        body = {"configure": configure, "write": write, "read": read}
        (await self._http.put(f"/permissions/{_q(vhost)}/{_q(user)}", json=body)).raise_for_status()

    async def create_user(self, user: str, password: str, tags: str = "") -> None:
        body = {"password": password, "tags": tags}
        (await self._http.put(f"/users/{_q(user)}", json=body)).raise_for_status()

    async def delete_user(self, user: str) -> None:
        response = await self._http.delete(f"/users/{_q(user)}")
        if response.status_code != 404:
            response.raise_for_status()

    async def set_topic_permissions(
        self, vhost: str, user: str, exchange: str, write: str, read: str
    ) -> None:
        body = {"exchange": exchange, "write": write, "read": read}
        (await self._http.put(f"/topic-permissions/{_q(vhost)}/{_q(user)}", json=body)).raise_for_status()

    async def queues(self, vhost: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._get(f"/queues/{_q(vhost)}")
        return result

    async def queue(self, vhost: str, name: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._get(f"/queues/{_q(vhost)}/{_q(name)}")
        return result

    async def connections(self, vhost: str | None = None) -> list[dict[str, Any]]:
        path = f"/vhosts/{_q(vhost)}/connections" if vhost else "/connections"
        result: list[dict[str, Any]] = await self._get(path)
        return result

    async def close_connection(self, name: str, reason: str = "closed by paybus") -> None:
        response = await self._http.delete(f"/connections/{_q(name)}", headers={"X-Reason": reason})
        if response.status_code != 404:
            response.raise_for_status()

    async def close_connections(self, vhost: str, client_name_prefix: str = "") -> int:
        """Close every connection in a vhost whose client-given name starts with the prefix."""
        closed = 0
        for conn in await self.connections(vhost):
            client_name = (conn.get("client_properties") or {}).get("connection_name", "")
            if client_name.startswith(client_name_prefix):
                await self.close_connection(conn["name"])
                closed += 1
        return closed
