"""Bounded store, .eml archive, parsing of odd mail, settings, and clean stops."""

import asyncio

import pytest

from devmailbox.message import parse_message
from devmailbox.settings import Settings
from devmailbox.store import MessageStore
from devmailbox.testing import running_mailbox


async def test_store_keeps_only_the_newest_messages(send_to, message_factory):
    async with running_mailbox(limit=3) as box:
        for n in range(5):
            await send_to(box, message_factory(f"message {n}"))

        assert [m.subject for m in box.store.list()] == ["message 4", "message 3", "message 2"]


async def test_messages_are_archived_as_eml_when_a_directory_is_set(tmp_path, send_to, message_factory):
    async with running_mailbox(directory=tmp_path / "mail") as box:
        await send_to(box, message_factory("archived"))
        stored = await box.wait_for_one()

    files = list((tmp_path / "mail").glob("*.eml"))
    assert [f.name for f in files] == [f"{stored.received_at:%Y%m%dT%H%M%S%fZ}-{stored.id}.eml"]
    assert files[0].read_bytes() == stored.raw


async def test_stop_closes_sessions_that_are_still_connected():
    async with running_mailbox() as box:
        reader, writer = await asyncio.open_connection("127.0.0.1", box.smtp_port)
        assert (await reader.readline()).startswith(b"220 devmailbox")

    async with asyncio.timeout(2):
        assert await reader.read() == b""
    writer.close()
    await writer.wait_closed()


def test_store_rejects_a_limit_below_one():
    with pytest.raises(ValueError, match="limit"):
        MessageStore(limit=0)


def test_unparseable_bytes_are_kept_raw():
    message = parse_message(b"\xff\xfe not a mail \x00\r\n\r\n\xff", "a@example.com", ["b@example.com"])

    assert message.raw.startswith(b"\xff\xfe")
    assert message.envelope_to == ("b@example.com",)
    assert message.attachments == ()


def test_unknown_charset_and_non_ascii_filename_are_decoded_leniently():
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nhello\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''fa%C3%A7ture.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
        b"--b\r\nContent-Type: image/png\r\n\r\nnot really\r\n--b--\r\n"
    )
    message = parse_message(raw, "a@example.com", ["b@example.com"])

    assert message.subject == "café"
    assert message.text == "hello"
    assert [(a.filename, a.content_type, a.payload) for a in message.attachments] == [
        ("façture.bin", "application/octet-stream", b"\x00\x01\x02"),
        ("part-2.png", "image/png", b"not really"),
    ]


def test_attachment_names_lose_their_directories():
    raw = (
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; "
        b'filename="..\\\\..\\\\evil.pdf"\r\n\r\n%PDF'
    )
    assert parse_message(raw, "", []).attachments[0].filename == "evil.pdf"


def test_settings_read_the_environment(monkeypatch, tmp_path):
    for name, value in {
        "SMTP_HOST": "0.0.0.0",
        "SMTP_PORT": "2525",
        "MAILBOX_PORT": "9025",
        "MAILBOX_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)

    settings = Settings(_env_file=None)

    assert (settings.smtp_host, settings.smtp_port, settings.mailbox_port) == ("0.0.0.0", 2525, 9025)
    assert settings.mailbox_dir == tmp_path
    assert Settings(_env_file=None, smtp_port=1025).mailbox_limit == 1000
