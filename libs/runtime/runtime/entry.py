"""runtime: `python -m <service> api|worker|...`: one entry point, logging and tracing configured once."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from fastapi import FastAPI

from runtime import http
from runtime.logs import configure_logging
from runtime.settings import HTTP_KEEP_ALIVE, BaseServiceSettings
from runtime.tracing import configure_tracing, instrument_api
from runtime.worker import OpenWorker, run_worker

S = TypeVar("S", bound=BaseServiceSettings)


@dataclass(frozen=True)
class Command:
    """An operator command beside api and worker (`python -m payments reconcile --since 600`)."""

    help: str
    run: Callable[[argparse.Namespace], int]  # exit status
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def main(
    argv: Sequence[str] | None,
    *,
    service: str,
    settings: Callable[[], S],
    api: Callable[[S], FastAPI],
    worker: Callable[[S], OpenWorker] | None = None,
    commands: Mapping[str, Command] | None = None,
    keep_alive: int = HTTP_KEEP_ALIVE,
) -> int:
    """Parse the command, configure logging and tracing, read the settings, run the process; return its
    exit status."""
    parser = argparse.ArgumentParser(prog=f"python -m {service}")
    sub = parser.add_subparsers(dest="process", required=True, metavar="|".join(_names(worker, commands)))
    sub.add_parser("api", help=f"serve the {service} HTTP API")
    if worker is not None:
        sub.add_parser("worker", help="consume, relay and run the scheduled jobs; health on the worker port")
    for name, command in (commands or {}).items():
        command.arguments(sub.add_parser(name, help=command.help))
    args = parser.parse_args(argv)
    configure_logging(service, args.process)
    try:
        provider = configure_tracing(service, args.process)
    except ValueError as exc:  # a malformed OTEL_EXPORTER_OTLP_ENDPOINT: say so, start nothing
        raise SystemExit(f"python -m {service}: {exc}") from None
    if args.process not in ("api", "worker"):
        return (commands or {})[args.process].run(args)
    config = settings()
    host, port = config.address(args.process)
    if args.process == "worker" and worker is not None:
        name = f"{service}-worker"
        return run_worker(worker(config), name=name, host=host, port=port, grace=config.worker_drain_grace)
    app = instrument_api(api(config), provider)
    http.serve_api(app, host, port, read_timeout=config.http_read_timeout, keep_alive=keep_alive)
    return 0


def _names(worker: object, commands: Mapping[str, Command] | None) -> list[str]:
    return ["api", *(["worker"] if worker is not None else []), *(commands or {})]
