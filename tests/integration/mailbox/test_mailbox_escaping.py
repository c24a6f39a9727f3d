"""Hostile mail cannot inject markup or scripts into the mailbox's own pages."""

from email.message import EmailMessage

import httpx

from devmailbox.testing import RunningMailbox

SCRIPT = '<script>alert("owned")</script>'


def hostile_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = f'"{SCRIPT}" <evil@example.com>'
    message["To"] = "bob@example.com"
    message["Subject"] = f"{SCRIPT}<img src=x onerror=alert(1)>"
    message["X-Evil"] = SCRIPT
    message.set_content(f"text {SCRIPT}")
    message.add_alternative(f"<p>hi</p>{SCRIPT}", subtype="html")
    message.add_attachment(
        b"x", maintype="text", subtype="html", filename='"><img src=x onerror=alert(2)>.html'
    )
    return message


async def test_list_page_escapes_hostile_subject_and_sender(
    box: RunningMailbox, web: httpx.AsyncClient, send
):
    await send(hostile_message())
    await box.wait_for_one()

    page = (await web.get("/")).text

    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


async def test_message_page_escapes_everything_and_frames_the_html_part(
    box: RunningMailbox, web: httpx.AsyncClient, send
):
    await send(hostile_message())
    stored = await box.wait_for_one()

    response = await web.get(f"/messages/{stored.id}")

    assert "<script" not in response.text
    assert "<img" not in response.text
    assert "<p>hi</p>" not in response.text  # the HTML part only ever appears inside the iframe
    assert f'<iframe sandbox src="/messages/{stored.id}/html"' in response.text
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_hostile_attachment_is_a_sandboxed_download(box: RunningMailbox, web: httpx.AsyncClient, send):
    await send(hostile_message())
    stored = await box.wait_for_one()

    response = await web.get(f"/messages/{stored.id}/attachments/0")

    assert response.headers["content-disposition"].startswith("attachment; ")
    assert 'filename="_><img src=x onerror=alert(2)>.html"' in response.headers["content-disposition"]
    assert response.headers["content-security-policy"].startswith("sandbox;")
    assert response.headers["x-content-type-options"] == "nosniff"
