"""Fake orders, payments and notifier HTTP apps speaking the internal contract, for HttpUpstreams tests.

Unit tests mount them with httpx.ASGITransport; integration tests serve them with uvicorn.
`script(service, status, body)` makes the next call to a service answer that instead;
`hang(service)` makes its calls wait until released (the gateway's timeout fires first).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Json = dict[str, Any]
PRODUCTS: list[Json] = [
    {"id": "blue-mug", "name": "Blue mug", "description": "Stoneware", "price": 1500, "currency": "eur"},
    {"id": "tea", "name": "Tea sampler", "description": "", "price": 499, "currency": "eur"},
]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    raw_headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class FakeServices:
    orders: dict[str, Json] = field(default_factory=dict)
    sessions: dict[str, Json] = field(default_factory=dict)
    seen: dict[str, list[Seen]] = field(
        default_factory=lambda: {"orders": [], "payments": [], "notifier": []}
    )
    scripted: dict[str, list[Response]] = field(default_factory=dict)
    not_ready: set[str] = field(default_factory=set)
    hanging: set[str] = field(default_factory=set)
    release: asyncio.Event | None = None
    webhook_reply: tuple[int, bytes] = (200, b'{"received": true}')

    def script(
        self, service: str, status: int, body: bytes | str = b"", media: str = "application/json"
    ) -> None:
        self.scripted.setdefault(service, []).append(Response(body, status_code=status, media_type=media))

    def hang(self, service: str) -> None:
        self.hanging.add(service)

    def reset(self) -> None:
        """Back to a clean state between tests; releases calls left hanging."""
        self.orders.clear()
        self.sessions.clear()
        for calls in self.seen.values():
            calls.clear()
        self.scripted.clear()
        self.not_ready.clear()
        self.hanging.clear()
        self.webhook_reply = (200, b'{"received": true}')
        if self.release is not None:
            self.release.set()
            self.release = asyncio.Event()

    def add_order(self, status: str = "pending", **extra: Any) -> Json:
        now = datetime.now(UTC)
        order: Json = {
            "id": str(uuid.uuid4()),
            "status": status,
            "email": "ada@example.com",
            "items": [
                {
                    "product_id": "blue-mug",
                    "name": "Blue mug",
                    "quantity": 2,
                    "unit_price": 1500,
                    "line_total": 3000,
                }
            ],
            "total": 3000,
            "currency": "eur",
            "created_at": now.isoformat(),
            "payment_deadline": (now + timedelta(hours=1)).isoformat(),
            "paid_at": None,
            "refunded_amount": 0,
            "checkout_session_id": None,
            "payment_intent_id": None,
            "x_unknown_field": {"kept": [1, 2.50, "as sent"]},
        } | extra
        self.orders[order["id"]] = order
        return order

    def app(self, service: str) -> Starlette:
        routes = {"orders": self._orders_routes, "payments": self._payments_routes}.get(service, list)()
        routes.append(Route("/readyz", self._readyz(service)))
        return Starlette(routes=[_wrapped(self, service, route) for route in routes])

    def _orders_routes(self) -> list[Route]:
        return [
            Route("/products", self._products),
            Route("/orders", self._create_order, methods=["POST"]),
            Route("/orders/{order_id}", self._get_order),
        ]

    def _payments_routes(self) -> list[Route]:
        return [
            Route("/checkout-sessions", self._create_session, methods=["POST"]),
            Route("/checkout-sessions/{session_id}", self._get_session),
            Route("/webhook", self._webhook, methods=["POST"]),
        ]

    def _readyz(self, service: str) -> Any:
        async def readyz(request: Request) -> Response:
            if service in self.not_ready:
                return JSONResponse({"status": "unavailable", "down": ["database"]}, status_code=503)
            return JSONResponse({"status": "ok"})

        return readyz

    async def _products(self, request: Request) -> Response:
        return JSONResponse(PRODUCTS)

    async def _create_order(self, request: Request) -> Response:
        body = await request.json()
        known = {p["id"]: p for p in PRODUCTS}
        errors = [
            {"loc": ["body", "items", i, "product_id"], "msg": "Unknown product", "type": "value_error"}
            for i, item in enumerate(body["items"])
            if item["product_id"] not in known
        ]
        if "@" not in body["email"]:
            errors.append({"loc": ["body", "email"], "msg": "Not an e-mail address", "type": "value_error"})
        if errors or not body["items"]:
            return JSONResponse({"detail": errors or [{"loc": ["body", "items"], "msg": "Empty"}]}, 422)
        item = body["items"][0]
        line = known[item["product_id"]]
        lines = [
            dict(
                product_id=line["id"],
                name=line["name"],
                quantity=item["quantity"],
                unit_price=line["price"],
                line_total=line["price"] * item["quantity"],
            )
        ]
        order = self.add_order(email=body["email"], items=lines, total=lines[0]["line_total"])
        return JSONResponse(order, status_code=201)

    async def _get_order(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["order_id"])
        return JSONResponse(order) if order else JSONResponse({"detail": "Order not found"}, 404)

    async def _create_session(self, request: Request) -> Response:
        body = await request.json()
        if set(body) != {"order_id"}:
            return JSONResponse({"detail": "only order_id is accepted"}, status_code=422)
        order = self.orders.get(body["order_id"])
        if order is None:
            return JSONResponse({"detail": "no such order"}, status_code=404)
        if order["status"] not in ("pending", "payment_failed"):
            return JSONResponse({"detail": f"order is {order['status']}"}, status_code=409)
        for session in self.sessions.values():
            if session["order_id"] == order["id"] and session["status"] == "open":
                return JSONResponse(_public(session), status_code=200)
        session_id = f"cs_test_{uuid.uuid4().hex}"
        self.sessions[session_id] = {
            "session_id": session_id,
            "order_id": order["id"],
            "status": "open",
            "payment_status": "unpaid",
            "checkout_url": f"http://stripe.test/pay/{session_id}",
        }
        return JSONResponse(_public(self.sessions[session_id]), status_code=201)

    async def _get_session(self, request: Request) -> Response:
        session = self.sessions.get(request.path_params["session_id"])
        if session is None:
            return JSONResponse({"detail": "No such session"}, status_code=404)
        return JSONResponse({k: v for k, v in session.items() if k != "checkout_url"})

    async def _webhook(self, request: Request) -> Response:
        status, body = self.webhook_reply
        return Response(body, status_code=status, media_type="application/json")


def _public(session: Json) -> Json:
    return {"session_id": session["session_id"], "checkout_url": session["checkout_url"]}


def _wrapped(fakes: FakeServices, service: str, route: Route) -> Route:
    """Record every request, then answer a scripted response, hang, or run the real fake."""
    endpoint = route.endpoint

    async def recorded(request: Request) -> Response:
        fakes.seen[service].append(
            Seen(
                request.method,
                request.url.path,
                dict(request.headers),
                list(request.scope["headers"]),
                await request.body(),
            )
        )
        if service in fakes.hanging:
            await (fakes.release or asyncio.Event()).wait()
        if fakes.scripted.get(service):
            return fakes.scripted[service].pop(0)
        response: Response = await endpoint(request)
        return response

    return Route(route.path, recorded, methods=list(route.methods or ["GET"]))


def loads(body: bytes) -> Any:
    return json.loads(body)
