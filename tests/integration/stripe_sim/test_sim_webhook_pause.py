"""POST /_sim/webhooks enabled=0|1: "our endpoint is down" without touching the endpoint."""

import httpx
import pytest
import stripe

from stripe_sim.testing import RunningSim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, Receiver, session_params
from tests.support.waiting import eventually

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)


async def _events(aclient: stripe.StripeClient) -> list[stripe.Event]:
    """Every event, oldest first."""
    return list(reversed((await aclient.v1.events.list_async({"limit": 100})).data))


async def test_paused_delivery_holds_events_listed_as_pending_then_sends_them_in_order(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    paused = await sim.set_webhooks(False)
    sessions = [await aclient.v1.checkout.sessions.create_async(session_params()) for _ in range(3)]
    for session in sessions:
        await sim.pay(session.id)
    held = await _events(aclient)
    deliveries = await sim.deliveries()
    config = await sim.configure()

    assert paused == {"webhooks_enabled": False}
    assert config["webhooks_enabled"] is False
    assert receiver.snapshot() == []
    assert len(held) == len(deliveries) == 12  # each payment: PI created, charge + PI succeeded, completed
    assert {e.pending_webhooks for e in held} == {1}
    assert all(d["attempts"] == [] and not d["delivered"] for d in deliveries)
    completed = [e.data.object["id"] for e in held if e.type == "checkout.session.completed"]
    assert completed == [s.id for s in sessions]

    resumed = await sim.set_webhooks(True)
    await eventually(lambda: len(receiver.snapshot()) == len(held))

    assert resumed == {"webhooks_enabled": True}
    assert [r.event_id for r in receiver.snapshot()] == [e.id for e in held]
    assert {e.pending_webhooks for e in await _events(aclient)} == {0}


async def test_a_retry_waits_while_delivery_is_paused(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    receiver.fail_next(503)
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    await aclient.v1.checkout.sessions.expire_async(session.id)
    await eventually(lambda: len(receiver.snapshot()) == 1)
    await sim.set_webhooks(False)
    first = (await sim.deliveries())[0]

    assert [a["status"] for a in first["attempts"]] == [503]
    assert (await _events(aclient))[0].pending_webhooks == 1

    await sim.set_webhooks(True)
    await eventually(lambda: [r.status for r in receiver.snapshot()] == [503, 200])
    assert (await _events(aclient))[0].pending_webhooks == 0


@pytest.mark.parametrize("value", ["", "2", "yes"])
async def test_the_switch_takes_only_0_or_1(sim: RunningSim, value: str) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        response = await http.post("/_sim/webhooks", data={"enabled": value})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "enabled"
