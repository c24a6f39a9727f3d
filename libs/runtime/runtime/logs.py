"""runtime: logging, configured once per process, the same way in every service."""

from __future__ import annotations

import logging


def configure_logging(service: str, process: str, level: int = logging.INFO) -> None:
    """One line per record, naming the process (`orders-worker`); uvicorn's loggers propagate here."""
    fmt = f"%(asctime)s {service}-{process} %(levelname)s %(name)s %(message)s"
    logging.basicConfig(level=level, format=fmt, force=True)
