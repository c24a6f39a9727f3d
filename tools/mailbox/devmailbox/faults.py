"""devmailbox: the fault switch that makes the SMTP server refuse the next N messages."""

from __future__ import annotations

from enum import StrEnum


class FaultMode(StrEnum):
    NONE = "none"
    TEMPFAIL = "tempfail"
    REJECT = "reject"


class FaultStage(StrEnum):
    RCPT = "rcpt"
    DATA = "data"


REPLIES = {
    FaultMode.TEMPFAIL: "451 4.3.0 Temporary failure (devmailbox fault injection)",
    FaultMode.REJECT: "550 5.7.1 Rejected (devmailbox fault injection)",
}


class FaultSwitch:
    """Counts messages, not commands: every RCPT of one faulted transaction fails, for one count."""

    def __init__(self) -> None:
        self.mode = FaultMode.NONE
        self.stage = FaultStage.RCPT
        self.remaining: int | None = None  # None: until switched off
        self._faulted: object | None = None  # the envelope (transaction) last refused
        self._reply = ""

    def set(self, mode: FaultMode, stage: FaultStage = FaultStage.RCPT, count: int | None = None) -> None:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1, or None for every message")
        self.mode, self.stage = mode, stage
        self.remaining = None if mode is FaultMode.NONE else count
        self._faulted = None

    def check(self, stage: FaultStage, transaction: object) -> str | None:
        """The SMTP reply to send instead of accepting, or None to accept."""
        if self._faulted is transaction and stage is FaultStage.RCPT:
            return self._reply
        if self.mode is FaultMode.NONE or stage is not self.stage:
            return None
        self._faulted, self._reply = transaction, REPLIES[self.mode]
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining == 0:
                self.set(FaultMode.NONE)
                self._faulted = transaction  # the rest of this transaction's RCPTs still fail
        return self._reply
