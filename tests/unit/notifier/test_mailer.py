"""SMTP failures are sorted: 5xx for the message is permanent, everything else transient."""

from __future__ import annotations

import aiosmtplib
import pytest

from messaging.broker import Permanent
from notifier.mailer import PermanentMailError, TransientMailError, classify


def _refused(*codes: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(code, "nope", f"r{code}@example.com") for code in codes]
    )


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (_refused(550), True),
        (_refused(550, 553), True),
        (_refused(451), False),
        (_refused(550, 451), False),  # one recipient may still get it later
        (aiosmtplib.SMTPDataError(554, "content rejected"), True),
        (aiosmtplib.SMTPDataError(452, "full"), False),
        (aiosmtplib.SMTPSenderRefused(553, "bad sender", "shop@example.com"), True),
        (aiosmtplib.SMTPConnectError("refused"), False),
        (aiosmtplib.SMTPConnectResponseError(554, "go away"), False),
        (aiosmtplib.SMTPTimeoutError("timed out"), False),
        (aiosmtplib.SMTPServerDisconnected("gone"), False),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False),
    ],
)
def test_classify(exc: aiosmtplib.SMTPException, permanent: bool) -> None:
    result = classify(exc)
    assert isinstance(result, PermanentMailError if permanent else TransientMailError)
    assert isinstance(result, Permanent) is permanent


def test_the_reason_names_the_code_and_recipient() -> None:
    assert str(classify(_refused(550))) == "SMTP SMTPRecipientsRefused: r550@example.com: 550 nope"
