"""Log lines: JSON for collectors, naming the message being handled; text for a person."""

from __future__ import annotations

import json
import logging
import sys

from messaging import logcontext
from runtime.logs import JsonFormatter


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("notifier.services", logging.INFO, __file__, 1, message, args, None)


def test_a_json_line_names_the_process_and_the_message_being_handled() -> None:
    formatter = JsonFormatter("notifier", "worker")
    token = logcontext.current.set(
        {"message_id": "m-1", "correlation_id": "order-7", "event_type": "order.paid"}
    )
    try:
        line = json.loads(formatter.format(_record("sent %s", "<receipt.7@paybus>")))
    finally:
        logcontext.current.reset(token)
    assert line["message"] == "sent <receipt.7@paybus>"
    assert (line["service"], line["process"], line["level"]) == ("notifier", "notifier-worker", "INFO")
    assert (line["message_id"], line["correlation_id"], line["event_type"]) == (
        "m-1",
        "order-7",
        "order.paid",
    )


def test_outside_a_delivery_a_json_line_has_no_message_fields_and_keeps_the_traceback() -> None:
    formatter = JsonFormatter("orders", "api")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("orders", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(formatter.format(record))
    assert "message_id" not in line
    assert "ValueError: boom" in line["exception"]
