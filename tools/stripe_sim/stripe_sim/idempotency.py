"""stripe_sim idempotency: `Idempotency-Key` replays the first result, rejects other parameters."""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_sim.errors import StripeError

Obj = dict[str, Any]
MAX_KEYS = 10_000


@dataclass(frozen=True)
class Saved:
    path: str
    fingerprint: str
    status: int
    body: Obj
    request_id: str | None


class IdempotencyCache:
    """Results of POSTs by (API key, Idempotency-Key). Requests that fail validation are not saved."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._saved: dict[tuple[str, str], Saved] = {}

    def run(
        self,
        scope: tuple[str, str],
        path: str,
        params: Obj,
        request_id: str | None,
        action: Callable[[], Obj],
    ) -> tuple[Saved, bool]:
        """Run `action` once per key; returns the saved result and whether it was replayed."""
        fingerprint = json.dumps(params, sort_keys=True)
        with self._lock:
            saved = self._saved.get(scope)
            if saved is not None:
                _check_same(saved, scope[1], path, fingerprint)
                return saved, True
            saved = Saved(path, fingerprint, 200, action(), request_id)
            self._saved[scope] = saved
            if len(self._saved) > MAX_KEYS:
                del self._saved[next(iter(self._saved))]
            return saved, False


def _check_same(saved: Saved, key: str, path: str, fingerprint: str) -> None:
    hint = f"Try using a key other than '{key}' if you meant to execute a different request."
    if saved.path != path:
        message = (
            f"Keys for idempotent requests can only be used for the same endpoint they were first "
            f"used for ('{saved.path}' vs '{path}'). {hint}"
        )
        raise StripeError(400, message, type="idempotency_error")
    if saved.fingerprint != fingerprint:
        message = (
            "Keys for idempotent requests can only be used with the same parameters they were first "
            f"used with. {hint}"
        )
        raise StripeError(400, message, type="idempotency_error")
