"""Fixtures for the Stripe stand-in: a sim and a webhook receiver, each served on its own free port."""

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import stripe

from stripe_sim.testing import RunningSim, in_thread, running_sim
from tests.support.stripe_sim_live import WEBHOOK_PATH, Hub, Receiver, sim_settings


@pytest.fixture(scope="session")
def hub() -> Iterator[Hub]:
    with in_thread(lambda: Hub().serve()) as served:
        yield served


@pytest.fixture
def receiver(hub: Hub) -> Iterator[Receiver]:
    name = uuid.uuid4().hex
    rec = Receiver(url=f"{hub.url}/hooks/{name}{WEBHOOK_PATH}")
    hub.receivers[name] = rec
    yield rec
    del hub.receivers[name]


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[RunningSim]:
    """A fresh stand-in in its own thread (so sync SDK calls from async tests cannot block it)."""
    with in_thread(lambda: running_sim(sim_settings(receiver.url))) as running:
        yield running


@pytest.fixture
def client(sim: RunningSim) -> stripe.StripeClient:
    """The official SDK with its default HTTP clients (requests for sync, httpx for async)."""
    return stripe.StripeClient(sim.api_key, base_addresses={"api": sim.base_url}, max_network_retries=0)


@pytest.fixture
async def aclient(sim: RunningSim) -> AsyncIterator[stripe.StripeClient]:
    """The official SDK on httpx, used through its `*_async` methods."""
    http = stripe.HTTPXClient()
    yield stripe.StripeClient(
        sim.api_key, base_addresses={"api": sim.base_url}, http_client=http, max_network_retries=0
    )
    await http.close_async()  # type: ignore[no-untyped-call]
