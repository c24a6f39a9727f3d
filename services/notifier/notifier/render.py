"""notifier: e-mails from Jinja2 templates (text and autoescaped HTML parts), with the PDF invoice."""

from __future__ import annotations

from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTPUTF8, compat32
from email.utils import formataddr, formatdate, getaddresses, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from messaging.money import format_money
from notifier.domain import Mail, Seller, method_label
from notifier.invoice import build_invoice, invoice_filename
from notifier.mailer import Outgoing

DEFAULT_SELLER = Seller("paybus shop")
_CLASSIC = compat32.clone(linesep="\r\n")  # SMTP's line ends, written once


class Composer:
    """Builds the MIME message of a Mail; templates are loaded once per process."""

    def __init__(self, sender: str, seller: Seller = DEFAULT_SELLER) -> None:
        self.sender = sender
        self.seller = seller
        display, address = parseaddr(sender)
        self._sender_address = _address(address or sender)
        self._classic_from = formataddr((display, self._sender_address), charset="utf-8")  # RFC 2047 name
        self._env = Environment(
            loader=PackageLoader("notifier", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self._env.filters["money"] = format_money
        self._env.filters["method"] = method_label

    def render(self, mail: Mail) -> tuple[str, str]:
        """The text and HTML bodies."""
        context = {
            "order": mail.order,
            "links": mail.links,
            "payment": mail.payment,
            "refunded": mail.refunded,
            "reason": mail.reason,
            "subject": mail.subject,
            "shop": self.seller.name,
            "invoice": mail.invoice,
            "invoice_name": invoice_filename(mail.order),
        }
        text = self._env.get_template(f"{mail.template.value}.txt").render(context)
        html = self._env.get_template(f"{mail.template.value}.html").render(context)
        return text, html

    def compose(self, mail: Mail) -> Outgoing:
        """The message as SMTP sends it. Raises ValueError on an address that cannot be written
        (e.g. a line break in it, or not one address).

        ASCII addresses, the usual case, take the stdlib's classic MIME classes: a third of the
        cost of EmailMessage, whose header objects parse every header it sets and writes. A non-ASCII
        address needs RFC 6532 headers and SMTPUTF8, which only EmailMessage writes correctly.
        """
        recipient = _address(mail.recipient)
        text, html = self.render(mail)
        pdf = self._invoice(mail)
        if recipient.isascii() and self._sender_address.isascii():
            data = self._classic(mail, text, html, pdf)
            return Outgoing(self._sender_address, (recipient,), data)
        msg = self._modern(mail, text, html, pdf)
        return Outgoing(self._sender_address, (recipient,), msg.as_bytes(policy=SMTPUTF8), smtputf8=True)

    def _invoice(self, mail: Mail) -> bytes | None:
        if mail.payment is None:
            return None
        if mail.invoice is None:  # services.send_once reads it from the e-mail's row
            raise ValueError(f"{mail.message_id} has no invoice number")
        return build_invoice(mail.order, mail.payment, self.seller, mail.invoice)

    def _headers(self, mail: Mail) -> list[tuple[str, str]]:
        return [
            ("From", self.sender),
            ("To", mail.recipient),
            ("Subject", mail.subject),
            ("Message-ID", mail.message_id),
            ("Date", formatdate(usegmt=True)),
            ("Auto-Submitted", "auto-generated"),  # RFC 3834: auto-responders stay quiet
        ]

    def _classic(self, mail: Mail, text: str, html: str, pdf: bytes | None) -> bytes:
        body = MIMEMultipart("alternative", _subparts=[_text_part(text, "plain"), _text_part(html, "html")])
        root = body
        if pdf is not None:
            attachment = MIMEApplication(pdf, "pdf")
            attachment.add_header("Content-Disposition", "attachment", filename=invoice_filename(mail.order))
            root = MIMEMultipart("mixed", _subparts=[body, attachment])
        for name, value in self._headers(mail):
            if name == "From":
                value = self._classic_from
            elif not value.isascii():
                value = Header(value, "utf-8").encode()
            root[name] = value
        return root.as_bytes(policy=_CLASSIC)

    def _modern(self, mail: Mail, text: str, html: str, pdf: bytes | None) -> EmailMessage:
        msg = EmailMessage()
        for name, value in self._headers(mail):
            msg[name] = value
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        if pdf is not None:
            msg.add_attachment(
                pdf, maintype="application", subtype="pdf", filename=invoice_filename(mail.order)
            )
        return msg


def _address(value: str) -> str:
    """The one addr-spec in `value`, or ValueError: no header injection, no second recipient."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"a CR or LF in the address {value!r}")
    found = getaddresses([value])
    if len(found) != 1 or "@" not in found[0][1] or found[0][1] != value.strip():
        raise ValueError(f"not one plain e-mail address: {value!r}")
    return found[0][1]


def _text_part(body: str, subtype: str) -> MIMEText:
    if body.isascii():
        return MIMEText(body, subtype, "us-ascii")  # 7bit: readable as is
    charset = Charset("utf-8")
    charset.body_encoding = QP  # mostly ASCII with a few accents: readable, unlike base64
    return MIMEText(body, subtype, charset)  # type: ignore[arg-type]  # the stdlib takes a Charset too
