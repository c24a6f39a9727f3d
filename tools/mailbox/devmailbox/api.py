"""devmailbox: the JSON API for tests and tools (in the spirit of Mailpit's)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from devmailbox.deps import FaultsDep, StoreDep
from devmailbox.faults import FaultMode, FaultStage, FaultSwitch
from devmailbox.message import StoredMessage
from devmailbox.responses import download, find_attachment, find_message

router = APIRouter(prefix="/api", tags=["api"])


class AttachmentPublic(BaseModel):
    filename: str
    content_type: str
    size: int


class MessageSummary(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    id: str
    message_id: str
    from_: str = Field(alias="from")
    to: list[str]
    cc: list[str]
    envelope_from: str
    envelope_to: list[str]
    subject: str
    date: str
    received_at: datetime
    attachments: list[AttachmentPublic]

    @classmethod
    def of(cls, m: StoredMessage) -> MessageSummary:
        return cls(
            id=m.id,
            message_id=m.message_id,
            from_=m.from_,
            to=list(m.to),
            cc=list(m.cc),
            envelope_from=m.envelope_from,
            envelope_to=list(m.envelope_to),
            subject=m.subject,
            date=m.date,
            received_at=m.received_at,
            attachments=[
                AttachmentPublic(filename=a.filename, content_type=a.content_type, size=a.size)
                for a in m.attachments
            ],
        )


class MessageDetail(MessageSummary):
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None

    @classmethod
    def of(cls, m: StoredMessage) -> MessageDetail:
        summary = MessageSummary.of(m).model_dump()
        return cls(**summary, headers=list(m.headers), text=m.text, html=m.html)


class FaultSet(BaseModel):
    mode: FaultMode
    stage: FaultStage = FaultStage.RCPT
    count: int | None = Field(default=None, ge=1, description="messages to refuse; null: all until reset")


class FaultPublic(BaseModel):
    mode: FaultMode
    stage: FaultStage
    remaining: int | None

    @classmethod
    def of(cls, faults: FaultSwitch) -> FaultPublic:
        return cls(mode=faults.mode, stage=faults.stage, remaining=faults.remaining)


@router.get("/messages")
async def list_messages(
    store: StoreDep,
    to: str | None = None,
    sender: Annotated[str | None, Query(alias="from")] = None,
    subject: str | None = None,
) -> list[MessageSummary]:
    """Messages, newest first; `to` is a whole address, `from` and `subject` match substrings."""
    return [MessageSummary.of(m) for m in store.list(to=to, sender=sender, subject=subject)]


@router.delete("/messages")
async def delete_messages(store: StoreDep) -> dict[str, int]:
    """Delete every message."""
    return {"deleted": store.clear()}


@router.get("/messages/{message_id}")
async def get_message(store: StoreDep, message_id: str) -> MessageDetail:
    """One message with its headers and text and HTML bodies."""
    return MessageDetail.of(find_message(store, message_id))


@router.get("/messages/{message_id}/raw")
async def get_raw(store: StoreDep, message_id: str) -> Response:
    """The message exactly as received (.eml)."""
    message = find_message(store, message_id)
    return download(message.raw, "message/rfc822", f"{message.id}.eml")


@router.get("/messages/{message_id}/attachments/{number}")
async def get_attachment(store: StoreDep, message_id: str, number: int) -> Response:
    """The bytes of attachment `number` (from 0), with its content type and file name."""
    attachment = find_attachment(find_message(store, message_id), number)
    return download(attachment.payload, attachment.content_type, attachment.filename)


@router.get("/faults")
async def get_fault(faults: FaultsDep) -> FaultPublic:
    """The current fault mode and how many messages it still applies to."""
    return FaultPublic.of(faults)


@router.post("/faults")
async def set_fault(faults: FaultsDep, body: FaultSet) -> FaultPublic:
    """Make the SMTP server answer 451 (tempfail) or 550 (reject) to the next `count` messages."""
    faults.set(body.mode, body.stage, body.count)
    return FaultPublic.of(faults)
