"""Ids for test data."""

from __future__ import annotations

import uuid


def random_ref(kind: str) -> str:
    """A unique, readable id for test data (Cosmic Python's random_ref)."""
    return f"{kind}-{uuid.uuid4().hex[:10]}"
