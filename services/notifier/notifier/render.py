"""notifier: e-mails from Jinja2 templates (text and autoescaped HTML parts), with the PDF invoice."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifier.domain import Mail, money
from notifier.invoice import build_invoice, invoice_filename

SHOP = "paybus shop"


class Composer:
    """Builds the MIME message of a Mail; templates are loaded once per process."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self._env = Environment(
            loader=PackageLoader("notifier", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self._env.filters["money"] = money

    def render(self, mail: Mail) -> tuple[str, str]:
        """The text and HTML bodies."""
        context = {
            "order": mail.order,
            "links": mail.links,
            "payment": mail.payment,
            "refunded": mail.refunded,
            "reason": mail.reason,
            "subject": mail.subject,
            "shop": SHOP,
            "invoice_name": invoice_filename(mail.order),
        }
        text = self._env.get_template(f"{mail.template.value}.txt").render(context)
        html = self._env.get_template(f"{mail.template.value}.html").render(context)
        return text, html

    def compose(self, mail: Mail) -> EmailMessage:
        """Raises ValueError on a header that cannot be written (e.g. a line break in the address)."""
        text, html = self.render(mail)
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.recipient
        msg["Subject"] = mail.subject
        msg["Message-ID"] = mail.message_id
        msg["Date"] = formatdate(usegmt=True)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders stay quiet
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        if mail.payment is not None:
            pdf = build_invoice(mail.order, mail.payment)
            msg.add_attachment(
                pdf, maintype="application", subtype="pdf", filename=invoice_filename(mail.order)
            )
        return msg
