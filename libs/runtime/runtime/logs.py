"""runtime: logging, configured once per process, the same way in every service.

JSON lines (one object per record: time, level, service, process, logger, message, the current
span's trace_id and span_id (runtime/tracing.py), and, while a message is being handled, its
message_id, correlation_id and event_type, while an HTTP request is served, its request_id) for log
collectors; plain
text when a person reads them in a terminal (handlers name the message there themselves).
`LOG_FORMAT=json|text` overrides the choice (`make run` asks for text when its output is a terminal).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

from opentelemetry import trace

from messaging import logcontext
from runtime import requests


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, process: str) -> None:
        super().__init__()
        self._service, self._process = service, process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "process": f"{self._service}-{self._process}",
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:  # the same ids the trace viewer shows: from a log line to its trace
            line["trace_id"] = trace.format_trace_id(span.trace_id)
            line["span_id"] = trace.format_span_id(span.span_id)
        delivery = logcontext.current.get()
        if delivery:
            line.update(delivery)
        rid = requests.request_id.get()
        if rid != requests.NONE:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(service: str, process: str, level: int = logging.INFO) -> None:
    """One line per record, naming the process (`orders-worker`); uvicorn's loggers propagate here."""
    choice = os.environ.get("LOG_FORMAT") or ("text" if sys.stderr.isatty() else "json")
    handler = logging.StreamHandler()
    if choice == "json":
        handler.setFormatter(JsonFormatter(service, process))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service}-{process} %(levelname)s %(name)s %(message)s")
        )
    logging.basicConfig(level=level, handlers=[handler], force=True)
