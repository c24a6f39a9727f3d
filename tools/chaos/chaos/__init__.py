"""The fault suite: servers of its own, the whole system on them, faults injected, payments counted."""
