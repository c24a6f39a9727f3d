"""Issue 13, finding 5: at most MAIL_PER_ADDRESS_PER_HOUR e-mails of one kind to one address an hour;
the rest are recorded 'held', never sent, and counted."""

from __future__ import annotations

from notifier.domain import EmailState
from notifier.handlers import HANDLERS
from tests.support.events import order_created, paid
from tests.support.notifier import make_deps


def held_count(deps) -> float:  # type: ignore[no-untyped-def]
    value = deps.metrics.registry.get_sample_value(
        "notifier_emails_total", {"template": "confirmation", "outcome": "held"}
    )
    return value or 0.0


async def test_confirmations_beyond_the_hourly_limit_to_one_address_are_held() -> None:
    deps, repo, mailer = make_deps(mail_per_address_per_hour=3)
    victim = [order_created(email="victim@example.com" if i % 2 else "Victim@Example.com") for i in range(5)]

    for msg in victim:
        await HANDLERS[type(msg.data)](msg, deps)

    assert [m["To"] for m in mailer.sent] == [
        "Victim@Example.com",
        "victim@example.com",
        "Victim@Example.com",
    ]
    states = [repo.emails[(m.data.order_id, "confirmation")].state for m in victim]
    assert states == [EmailState.SENT] * 3 + [EmailState.HELD] * 2
    assert held_count(deps) == 2
    assert await repo.count_emails() == {"sent": 3, "held": 2}


async def test_a_held_mail_stays_held_when_its_message_comes_again() -> None:
    deps, repo, mailer = make_deps(mail_per_address_per_hour=1)
    first, second = order_created(email="a@example.com"), order_created(email="a@example.com")
    for msg in (first, second, second):
        await HANDLERS[type(msg.data)](msg, deps)

    assert len(mailer.sent) == 1
    assert repo.emails[(second.data.order_id, "confirmation")].state is EmailState.HELD
    assert held_count(deps) == 1


async def test_the_limit_is_per_kind_and_per_address() -> None:
    deps, _, mailer = make_deps(mail_per_address_per_hour=1)
    mine, other = order_created(email="a@example.com"), order_created(email="b@example.com")
    for msg in (mine, other, paid(mine.data.order_id)):
        await HANDLERS[type(msg.data)](msg, deps)

    # a confirmation each, and a's receipt: another kind, its own count
    assert sorted(m["To"] for m in mailer.sent) == ["a@example.com", "a@example.com", "b@example.com"]
