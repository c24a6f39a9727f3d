"""Issue 13, finding 1 on the real broker and database: an underpayment is parked, never `paid`."""

from __future__ import annotations

import httpx

from orders import services
from orders.deps import Runtime
from orders.main import create_app
from orders.settings import Settings
from tests.support.events import payment_event
from tests.support.orders_live import AUTH, publish_payment
from tests.support.waiting import eventually


async def _reviews(runtime: Runtime) -> int:
    return int(await runtime.pool.fetchval("SELECT count(*) FROM payment_reviews"))


async def test_an_underpayment_is_parked_for_review_and_the_order_stays_pending(
    runtime: Runtime, settings: Settings, start_worker
) -> None:
    deps = runtime.deps(settings)
    order = await services.place_order(deps, "ada@example.com", [("prod_grinder", 2)])  # 138.00 eur
    await start_worker(settings)
    cheap = payment_event("succeeded", order.id, amount=1, session="cs_cheap")

    await publish_payment(runtime.broker, cheap)
    await publish_payment(runtime.broker, cheap)  # redelivered: still one review

    async def parked() -> bool:
        return (
            await _reviews(runtime) == 1
            and await runtime.pool.fetchval("SELECT count(*) FROM inbox WHERE message_id = $1", str(cheap.id))
            == 1
        )

    await eventually(parked, timeout=15)
    status = await runtime.pool.fetchval("SELECT status FROM orders WHERE id = $1", order.id)
    assert status == "pending"
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders", headers=AUTH) as client:
            listed = (await client.get("/payment-reviews", params={"order_id": str(order.id)})).json()
    [review] = listed
    assert (review["amount"], review["expected_amount"], review["currency"]) == (1, 13800, "eur")
    assert (review["message_id"], review["kind"], review["checkout_session_id"]) == (
        str(cheap.id), "payment.succeeded", "cs_cheap",
    )  # fmt: skip
