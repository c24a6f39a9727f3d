"""The one service lifecycle every paybus service runs on: entry point, settings, health, supervision."""

from runtime.auth import SERVICE_TOKEN_REQUIRED, UNAUTHORIZED, protect
from runtime.entry import Command, main
from runtime.health import Check, CheckFailed, Health
from runtime.resources import Resources, migrations_dir, open_database
from runtime.settings import BaseServiceSettings
from runtime.supervisor import Backoff, GaveUp, Supervisor
from runtime.worker import WorkerParts, WorkerRunner

__all__ = [
    "SERVICE_TOKEN_REQUIRED",
    "UNAUTHORIZED",
    "Backoff",
    "BaseServiceSettings",
    "Check",
    "CheckFailed",
    "Command",
    "GaveUp",
    "Health",
    "Resources",
    "Supervisor",
    "WorkerParts",
    "WorkerRunner",
    "main",
    "migrations_dir",
    "open_database",
    "protect",
]
