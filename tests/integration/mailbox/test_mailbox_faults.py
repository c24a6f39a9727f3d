"""The fault switch makes the SMTP server answer 451 or 550 for N messages, then recover."""

import smtplib
from typing import Any

import httpx
import pytest

from devmailbox.testing import RunningMailbox


async def set_fault(web: httpx.AsyncClient, **body: object) -> dict[str, Any]:
    response = await web.post("/api/faults", json=body)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def test_tempfail_refuses_the_next_n_recipients_with_451_then_recovers(
    box: RunningMailbox, web: httpx.AsyncClient, send, message_factory
):
    assert await set_fault(web, mode="tempfail", count=2) == {
        "mode": "tempfail",
        "stage": "rcpt",
        "remaining": 2,
    }

    for attempt in range(2):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await send(message_factory(f"refused {attempt}"))
        assert refused.value.recipients["bob@example.com"][0] == 451

    assert (await web.get("/api/faults")).json() == {"mode": "none", "stage": "rcpt", "remaining": None}
    await send(message_factory("accepted"))
    assert [m.subject for m in await box.wait_for()] == ["accepted"]


async def test_reject_at_data_gives_550_then_recovers(
    box: RunningMailbox, web: httpx.AsyncClient, send, message_factory
):
    await set_fault(web, mode="reject", stage="data", count=1)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        await send(message_factory("rejected"))
    assert refused.value.smtp_code == 550

    await send(message_factory("accepted"))
    assert [m.subject for m in await box.wait_for()] == ["accepted"]


async def test_fault_without_count_lasts_until_switched_off(
    box: RunningMailbox, web: httpx.AsyncClient, send, message_factory
):
    await set_fault(web, mode="reject")

    for attempt in range(3):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await send(message_factory(f"rejected {attempt}"))
        assert refused.value.recipients["bob@example.com"][0] == 550
    assert (await web.get("/api/faults")).json()["remaining"] is None

    await set_fault(web, mode="none")
    await send(message_factory("accepted"))
    assert [m.subject for m in await box.wait_for()] == ["accepted"]


async def test_count_is_per_message_not_per_recipient(
    box: RunningMailbox, web: httpx.AsyncClient, send, message_factory
):
    await set_fault(web, mode="tempfail", count=1)
    recipients = ["a@example.com", "b@example.com", "c@example.com"]

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await send(message_factory("to three"), to=recipients)
    assert {code for code, _ in refused.value.recipients.values()} == {451}
    assert sorted(refused.value.recipients) == recipients

    await send(message_factory("to three again"), to=recipients)
    stored = await box.wait_for_one()
    assert stored.envelope_to == tuple(recipients)


@pytest.mark.parametrize(
    "body",
    [{"mode": "explode"}, {"mode": "tempfail", "count": 0}, {"mode": "reject", "stage": "mail"}, {}],
)
async def test_invalid_fault_settings_are_422_and_change_nothing(web: httpx.AsyncClient, body):
    response = await web.post("/api/faults", json=body)

    assert response.status_code == 422
    assert (await web.get("/api/faults")).json()["mode"] == "none"
