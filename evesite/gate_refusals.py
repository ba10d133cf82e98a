"""The addresses the anonymous throttle refused, and until when (this process's memory, see :mod:`evesite.gate`).

Kept apart from the gate middleware so that :mod:`evesite.throttling` can record refusals while the gate
reads the throttle classes, without the two modules importing each other.
"""

from __future__ import annotations

import threading
import time

_MAX_ADDRESSES = 10_000
_lock = threading.Lock()
refused_until: dict[str, float] = {}


def gate_client_refused(*, address: str, wait_seconds: float) -> None:
    """Remember that the anonymous throttle refused ``address`` for ``wait_seconds``."""
    now = time.monotonic()
    with _lock:
        if len(refused_until) >= _MAX_ADDRESSES:
            for stale in [a for a, until in refused_until.items() if until <= now]:
                del refused_until[stale]
            if len(refused_until) >= _MAX_ADDRESSES:
                return
        refused_until[address] = now + wait_seconds


def gate_forget() -> None:
    """Forget every refused address (tests)."""
    with _lock:
        refused_until.clear()
