"""The JSON API's filters, ordering, delete-all and errors, and the pages' delete-all form."""

import httpx
import pytest

from devmailbox.testing import RunningMailbox


@pytest.fixture
async def three_messages(box: RunningMailbox, send, message_factory) -> None:
    await send(message_factory("for alice", to="alice@example.com"))
    await send(message_factory("for bob", to="Bob <bob@example.com>", sender="billing@shop.example"))
    # Carol is only on the envelope: a Bcc.
    await send(message_factory("bcc carol", to="alice@example.com"), to=["carol@example.com"])
    await box.wait_for(count=3)


def subjects(response: httpx.Response) -> list[str]:
    assert response.status_code == 200
    return [m["subject"] for m in response.json()]


@pytest.mark.usefixtures("three_messages")
async def test_list_is_newest_first(web: httpx.AsyncClient):
    assert subjects(await web.get("/api/messages")) == ["bcc carol", "for bob", "for alice"]


@pytest.mark.usefixtures("three_messages")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"to": "bob@example.com"}, ["for bob"]),
        ({"to": "BOB@Example.COM"}, ["for bob"]),
        ({"to": "ob@example.com"}, []),
        ({"to": "carol@example.com"}, ["bcc carol"]),
        ({"to": "alice@example.com"}, ["bcc carol", "for alice"]),
        ({"from": "billing@"}, ["for bob"]),
        ({"subject": "FOR"}, ["for bob", "for alice"]),
        ({"to": "alice@example.com", "subject": "for"}, ["for alice"]),
    ],
)
async def test_filters_narrow_the_list(web: httpx.AsyncClient, query, expected):
    assert subjects(await web.get("/api/messages", params=query)) == expected


@pytest.mark.usefixtures("three_messages")
async def test_list_page_filters_by_recipient(web: httpx.AsyncClient):
    page = (await web.get("/", params={"to": "bob@example.com"})).text

    assert ">for bob</a>" in page
    assert ">for alice</a>" not in page
    assert 'value="bob@example.com"' in page


@pytest.mark.usefixtures("three_messages")
async def test_delete_all_through_the_api(box: RunningMailbox, web: httpx.AsyncClient):
    response = await web.delete("/api/messages")

    assert response.json() == {"deleted": 3}
    assert (await web.get("/api/messages")).json() == []
    assert len(box.store) == 0


@pytest.mark.usefixtures("three_messages")
async def test_delete_all_button_empties_the_list_page(web: httpx.AsyncClient):
    response = await web.post("/delete")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = (await web.get("/")).text
    assert "No messages." in page
    assert "<table>" not in page


async def test_unknown_message_and_attachment_are_404(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice
):
    await send(invoice)
    stored = await box.wait_for_one()

    for url in (
        "/api/messages/nope",
        "/messages/nope",
        "/messages/nope/raw",
        f"/api/messages/{stored.id}/attachments/1",
        f"/api/messages/{stored.id}/attachments/-1",
    ):
        assert (await web.get(url)).status_code == 404, url


async def test_message_without_html_part_has_no_html_route(
    box: RunningMailbox, web: httpx.AsyncClient, send, message_factory
):
    await send(message_factory("plain only"))
    stored = await box.wait_for_one()

    detail = (await web.get(f"/api/messages/{stored.id}")).json()

    assert detail["html"] is None
    assert detail["attachments"] == []
    assert (await web.get(f"/messages/{stored.id}/html")).status_code == 404
    assert "<iframe" not in (await web.get(f"/messages/{stored.id}")).text


async def test_healthz(web: httpx.AsyncClient):
    response = await web.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
