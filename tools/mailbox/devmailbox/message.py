"""devmailbox: a received message, parsed once from its raw bytes."""

from __future__ import annotations

import logging
import mimetypes
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.headerregistry import AddressHeader
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser, Parser
from email.utils import getaddresses

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """One non-body MIME part (a real attachment or an inline image)."""

    filename: str
    content_type: str
    payload: bytes

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass(frozen=True)
class StoredMessage:
    """What the SMTP server received, with the parts the API and pages show."""

    id: str
    received_at: datetime
    raw: bytes
    envelope_from: str
    envelope_to: tuple[str, ...]
    peer: str = ""  # host:port of the SMTP client that sent it
    message_id: str = ""
    from_: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = ""
    date: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def recipients(self) -> set[str]:
        """Every address the message went to, lower-cased: To, Cc and the envelope (Bcc)."""
        return {a.lower() for a in (*self.to, *self.cc, *self.envelope_to)}


def parse_message(raw: bytes, envelope_from: str, envelope_to: list[str], peer: str = "") -> StoredMessage:
    """Parse raw RFC 5322 bytes; never raises, since a dev inbox must keep even broken mail."""
    unparsed = StoredMessage(
        id=uuid.uuid4().hex,
        received_at=datetime.now(UTC),
        raw=raw,
        envelope_from=envelope_from,
        envelope_to=tuple(envelope_to),
        peer=peer,
    )
    try:
        return _parsed(unparsed)
    except Exception:  # the stdlib parser has odd corners; the raw bytes are still worth keeping
        log.warning("could not parse message %s; keeping it raw", unparsed.id, exc_info=True)
        return unparsed


def _parsed(unparsed: StoredMessage) -> StoredMessage:
    msg = _parse(unparsed.raw)  # policy.default always builds EmailMessage
    text_part, html_part = _body_part(msg, "plain"), _body_part(msg, "html")
    return replace(
        unparsed,
        message_id=_header(msg, "Message-ID"),
        from_=_header(msg, "From"),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        subject=_header(msg, "Subject"),
        date=_header(msg, "Date"),
        headers=tuple((name, _safe_str(value)) for name, value in msg.items()),
        text=_content(text_part),
        html=_content(html_part),
        attachments=_attachments(msg, skip=(text_part, html_part)),
    )


def _parse(raw: bytes) -> EmailMessage:
    """Raw UTF-8 in headers (RFC 6532, sent with SMTPUTF8) is read as text; the bytes parser would
    turn each non-ASCII byte into a surrogate."""
    msg: Message
    try:
        text = None if raw.isascii() else raw.decode("utf-8")
    except UnicodeDecodeError:  # 8-bit in another charset: the bytes parser keeps it as it is
        text = None
    if text is None:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    else:
        msg = Parser(policy=policy.default).parsestr(text)
    assert isinstance(msg, EmailMessage)  # policy.default always builds EmailMessage
    return msg


def _header(msg: EmailMessage, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else _safe_str(value)


def _safe_str(value: object) -> str:
    # Malformed encoded words can make header objects fail to render; show them raw instead.
    try:
        return str(value)
    except (ValueError, LookupError):
        return repr(value)


def _addresses(msg: EmailMessage, name: str) -> tuple[str, ...]:
    header = msg.get(name)
    if isinstance(header, AddressHeader):
        return tuple(a.addr_spec for a in header.addresses if a.addr_spec)
    # A header the policy could not parse as addresses: fall back to the lenient parser.
    values = msg.get_all(name) or []
    return tuple(addr for _, addr in getaddresses([_safe_str(v) for v in values]) if addr)


def _body_part(msg: EmailMessage, subtype: str) -> MIMEPart | None:
    part = msg.get_body(preferencelist=(subtype,))
    # get_body also returns text parts marked as attachments when nothing else fits.
    if part is None or part.get_content_type() != f"text/{subtype}" or part.is_attachment():
        return None
    return part


def _content(part: MIMEPart | None) -> str | None:
    if part is None:
        return None
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    # Unknown or lying charsets are common in test mail; decode leniently rather than drop the body.
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:
        text = payload.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")  # SMTP's CRLF line ends are wire format, not content


def _attachments(msg: EmailMessage, skip: tuple[MIMEPart | None, ...]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart() or any(part is s for s in skip):
            continue
        payload = part.get_payload(decode=True)
        content_type = part.get_content_type()
        found.append(
            Attachment(
                filename=_filename(part, content_type, len(found) + 1),
                content_type=content_type,
                payload=payload if isinstance(payload, bytes) else b"",
            )
        )
    return tuple(found)


def _filename(part: Message, content_type: str, number: int) -> str:
    name = part.get_filename()
    if name:
        # Keep only the last path component: a name like "../../x" must not look like a path.
        return name.replace("\\", "/").rsplit("/", 1)[-1] or f"part-{number}"
    return f"part-{number}{mimetypes.guess_extension(content_type) or '.bin'}"
