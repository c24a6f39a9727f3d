"""A multipart invoice mail arrives over SMTP and shows in the JSON API and the pages."""

import asyncio
import smtplib
from email import message_from_bytes, policy

import httpx
import pytest

from devmailbox.testing import RunningMailbox


async def test_invoice_is_listed_in_the_json_api(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice, pdf_bytes
):
    await send(invoice)
    await box.wait_for_one()

    listed = (await web.get("/api/messages")).json()

    assert len(listed) == 1
    item = listed[0]
    assert item["message_id"] == "<invoice-42@example.com>"
    assert item["from"] == "shop@example.com"
    assert item["to"] == ["bob@example.com"]
    assert item["subject"] == "Your invoice #42"
    assert item["date"] == ""
    assert item["attachments"] == [
        {"filename": "invoice-42.pdf", "content_type": "application/pdf", "size": len(pdf_bytes)}
    ]


async def test_message_detail_has_text_and_html_bodies(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice
):
    await send(invoice)
    stored = await box.wait_for_one()

    detail = (await web.get(f"/api/messages/{stored.id}")).json()

    assert detail["text"] == "Thank you for your order.\nTotal: 12.50 EUR\n"
    assert detail["html"].startswith("<h1>Thank you</h1>")
    assert ["Subject", "Your invoice #42"] in detail["headers"]


async def test_attachment_download_returns_the_exact_pdf(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice, pdf_bytes
):
    await send(invoice)
    stored = await box.wait_for_one()

    for url in (f"/api/messages/{stored.id}/attachments/0", f"/messages/{stored.id}/attachments/0"):
        response = await web.get(url)
        assert response.status_code == 200
        assert response.content == pdf_bytes
        assert response.headers["content-type"] == "application/pdf"
        assert 'filename="invoice-42.pdf"' in response.headers["content-disposition"]


async def test_raw_download_is_the_message_as_received(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice
):
    await send(invoice)
    stored = await box.wait_for_one()

    response = await web.get(f"/messages/{stored.id}/raw")

    assert response.headers["content-type"] == "message/rfc822"
    assert response.content == stored.raw
    assert message_from_bytes(response.content, policy=policy.default)["Subject"] == "Your invoice #42"


async def test_list_page_shows_time_sender_recipient_subject_and_attachment_count(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice
):
    await send(invoice)
    stored = await box.wait_for_one()

    page = await web.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<a href="/messages/{stored.id}">Your invoice #42</a>' in page.text
    assert "<td>shop@example.com</td>" in page.text
    assert "<td>bob@example.com</td>" in page.text
    assert '<td class="num">1</td>' in page.text
    assert f'datetime="{stored.received_at.isoformat()}"' in page.text


async def test_message_page_shows_text_html_frame_and_attachment_link(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice
):
    await send(invoice)
    stored = await box.wait_for_one()

    page = (await web.get(f"/messages/{stored.id}")).text

    assert "<h1>Your invoice #42</h1>" in page
    assert "<pre>Thank you for your order.\nTotal: 12.50 EUR\n</pre>" in page
    assert f'<iframe sandbox src="/messages/{stored.id}/html"' in page
    assert f'<a href="/messages/{stored.id}/attachments/0" download>invoice-42.pdf</a>' in page
    assert f'href="/messages/{stored.id}/raw"' in page


async def test_html_part_is_served_alone_under_a_sandbox_policy(
    box: RunningMailbox, web: httpx.AsyncClient, send, invoice
):
    await send(invoice)
    stored = await box.wait_for_one()

    response = await web.get(f"/messages/{stored.id}/html")

    assert response.text.startswith("<h1>Thank you</h1>")
    assert response.headers["content-security-policy"].startswith("sandbox;")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_wait_for_gives_up_after_its_timeout(box: RunningMailbox, send, message_factory):
    await send(message_factory("other"))

    with pytest.raises(TimeoutError, match=r"0 of 1 expected messages .* \['other'\]"):
        await box.wait_for(lambda m: m.subject == "never", timeout=0.05)


async def test_wait_for_counts_matching_messages_in_arrival_order(box: RunningMailbox, send, message_factory):
    for n in range(3):
        await send(message_factory(f"order {n}"))

    found = await box.wait_for(lambda m: m.subject.startswith("order"), count=3)

    assert [m.subject for m in found] == ["order 0", "order 1", "order 2"]


async def test_smtp_login_with_any_credentials_is_accepted(box: RunningMailbox, message_factory):
    def login_and_send() -> None:
        with smtplib.SMTP("127.0.0.1", box.smtp_port, local_hostname="localhost", timeout=5) as client:
            client.login("user", "secret")
            client.send_message(message_factory("after login"))

    await asyncio.to_thread(login_and_send)

    assert (await box.wait_for_one()).subject == "after login"
