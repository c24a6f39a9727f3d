"""devmailbox: the server-rendered pages (list, message view, downloads, delete all)."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from devmailbox.deps import StoreDep
from devmailbox.responses import PAGE_CSP, download, find_attachment, find_message, html_part

router = APIRouter(tags=["pages"])
# autoescape on every template: subjects, names and bodies are attacker-controlled text.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.PackageLoader("devmailbox", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)


def _page(request: Request, name: str, context: dict[str, Any]) -> Response:
    return templates.TemplateResponse(
        request, name, context, headers={"Content-Security-Policy": PAGE_CSP, "X-Frame-Options": "DENY"}
    )


@router.get("/", include_in_schema=False)
async def list_page(request: Request, store: StoreDep, to: str | None = None) -> Response:
    """Every message, newest first."""
    messages = store.list(to=to)
    return _page(request, "list.html", {"messages": messages, "to": to or "", "limit": store.limit})


@router.get("/messages/{message_id}", include_in_schema=False)
async def message_page(request: Request, store: StoreDep, message_id: str) -> Response:
    """One message: headers, text part, HTML part in a sandboxed frame, attachments."""
    return _page(request, "message.html", {"message": find_message(store, message_id)})


@router.get("/messages/{message_id}/html", include_in_schema=False)
async def message_html(store: StoreDep, message_id: str) -> Response:
    """The HTML part alone, for the sandboxed iframe."""
    return html_part(find_message(store, message_id))


@router.get("/messages/{message_id}/raw", include_in_schema=False)
async def message_raw(store: StoreDep, message_id: str) -> Response:
    """The message as received, as a .eml download."""
    message = find_message(store, message_id)
    return download(message.raw, "message/rfc822", f"{message.id}.eml")


@router.get("/messages/{message_id}/attachments/{number}", include_in_schema=False)
async def message_attachment(store: StoreDep, message_id: str, number: int) -> Response:
    """One attachment as a download."""
    attachment = find_attachment(find_message(store, message_id), number)
    return download(attachment.payload, attachment.content_type, attachment.filename)


@router.post("/delete", include_in_schema=False)
async def delete_all(store: StoreDep) -> Response:
    """Delete every message, then show the (empty) list."""
    store.clear()
    return RedirectResponse("/", status_code=303)
