"""expires_at: the stand-in holds Stripe's real window (30 min .. 24 h from creation) with Stripe's
messages, and the one payments computes is accepted even when the request reaches Stripe minutes late
(or our clock runs minutes ahead of Stripe's)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from payments import domain
from stripe_sim.testing import running_sim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params, sim_settings

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)
STRIPES_MINIMUM = 1800
TOO_SOON = "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
TOO_LATE = "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
LATE = timedelta(minutes=4)  # a slow request, an SDK retry with backoff, an idempotent replay


@pytest.fixture
async def strict() -> AsyncIterator[stripe.StripeClient]:
    """A stand-in with Stripe's own bounds (the other tests lower the minimum)."""
    settings = sim_settings("off", stripe_sim_min_expires_in=STRIPES_MINIMUM)
    async with running_sim(settings) as running:
        http = stripe.HTTPXClient()
        yield stripe.StripeClient(
            running.api_key, base_addresses={"api": running.base_url}, http_client=http, max_network_retries=0
        )
        await http.close_async()  # type: ignore[no-untyped-call]


async def _create(client: stripe.StripeClient, expires: datetime) -> stripe.checkout.Session:
    return await client.v1.checkout.sessions.create_async(session_params(expires_at=int(expires.timestamp())))


@pytest.mark.parametrize("deadline", [timedelta(minutes=5), timedelta(minutes=31), None, timedelta(days=3)])
@pytest.mark.parametrize("skew", [-LATE, LATE], ids=["reaches-stripe-late", "our-clock-ahead"])
async def test_our_expires_at_is_accepted_at_either_edge_of_stripes_window(
    strict: stripe.StripeClient, deadline: timedelta | None, skew: timedelta
) -> None:
    computed_at = datetime.now(UTC) + skew
    expires = domain.expires_at(computed_at + deadline if deadline else None, computed_at, STRIPES_MINIMUM)

    session = await _create(strict, expires)

    assert session.status == "open"
    assert STRIPES_MINIMUM <= session.expires_at - session.created < 24 * 3600


async def test_without_the_margin_a_late_request_is_refused_with_stripes_message(
    strict: stripe.StripeClient,
) -> None:
    computed_at = datetime.now(UTC) - LATE
    exact_minimum = computed_at + timedelta(seconds=STRIPES_MINIMUM)
    exact_maximum = datetime.now(UTC) + LATE + timedelta(hours=24)

    for expires, message in ((exact_minimum, TOO_SOON), (exact_maximum, TOO_LATE)):
        with pytest.raises(stripe.InvalidRequestError) as err:
            await _create(strict, expires)
        assert (err.value.http_status, err.value.code, err.value.param) == (
            400,
            "parameter_invalid",
            "expires_at",
        )
        assert err.value.user_message == message
