"""devmailbox: settings read from the environment (and an optional .env file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devmailbox.store import DEFAULT_LIMIT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    smtp_host: str = "127.0.0.1"  # the address the SMTP server binds to
    smtp_port: int = Field(default=1025, ge=0, le=65535)
    mailbox_host: str = "127.0.0.1"  # the address the web page binds to
    mailbox_port: int = Field(default=8025, ge=0, le=65535)
    mailbox_dir: Path | None = None  # also write every message here as .eml
    mailbox_limit: int = Field(default=DEFAULT_LIMIT, ge=1)
