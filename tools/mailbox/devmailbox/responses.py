"""devmailbox: HTTP responses that hand out received content without letting it run in our pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import Response

from devmailbox.message import Attachment, StoredMessage
from devmailbox.store import MessageStore

# Received mail is hostile input: served content gets no scripts, no plugins and no same-origin access.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"
PAGE_CSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; frame-src 'self'; form-action 'self'"


def find_message(store: MessageStore, message_id: str) -> StoredMessage:
    message = store.get(message_id)
    if message is None:
        raise HTTPException(status_code=404, detail="no such message")
    return message


def find_attachment(message: StoredMessage, number: int) -> Attachment:
    """Attachments are numbered from 0 in the order they appear in the message."""
    if not 0 <= number < len(message.attachments):
        raise HTTPException(status_code=404, detail="no such attachment")
    return message.attachments[number]


def download(content: bytes, content_type: str, filename: str) -> Response:
    return Response(
        content=content,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "Content-Security-Policy": SANDBOX_CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    printable = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in filename)
    fallback = printable.encode("ascii", "replace").decode("ascii").replace("?", "_") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(printable, safe='')}"


def html_part(message: StoredMessage) -> Response:
    """The HTML body as its own document, for a sandboxed iframe on the message page."""
    if message.html is None:
        raise HTTPException(status_code=404, detail="message has no HTML part")
    return Response(
        content=message.html,
        media_type="text/html",
        headers={
            "Content-Security-Policy": SANDBOX_CSP + "; frame-ancestors 'self'",
            "X-Content-Type-Options": "nosniff",
        },
    )
