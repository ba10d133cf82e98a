"""The per-process token bucket, and waiting for a budget (or refusing when that is too long)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from esi.errors import EsiRateLimitError


class TokenBucket:
    """A per-process token bucket whose tokens are capped by the shared error budget.

    It refills ``rate`` tokens per second up to ``capacity``. ``cap`` limits the
    tokens to what ESI's error limit can still afford above the low-water mark:
    every request may turn into an error, so no burst may exceed that.
    """

    def __init__(
        self,
        *,
        capacity: float,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a full bucket.

        Args:
            capacity: Largest burst.
            rate: Tokens added per second.
            clock: Monotonic clock.
            sleep: Sleep function.
        """
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.tokens = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()
        self.waited_total = 0.0

    def _refill(self) -> None:
        """Add the tokens earned since the last update (caller holds the lock)."""
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
        self._updated = now

    def cap(self, affordable: float) -> None:
        """Drop tokens beyond what the error budget can afford.

        Args:
            affordable: Requests the error limit still allows above its low-water mark.
        """
        with self._lock:
            self._refill()
            self.tokens = min(self.tokens, max(0.0, affordable))

    def acquire(self) -> float:
        """Take one token, waiting for the refill when the bucket is empty.

        Returns:
            Seconds waited.
        """
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                if self.tokens >= 1.0 - 1e-9:  # float rounding must not leave a sliver to wait for
                    self.tokens = max(0.0, self.tokens - 1.0)
                    self.waited_total += waited
                    return waited
                pause = (1.0 - self.tokens) / self.rate if self.rate > 0 else 1.0
            self._sleep(pause)
            waited += pause

    def snapshot(self) -> dict[str, float]:
        """Describe the bucket.

        Returns:
            Tokens, capacity, refill rate and total wait.
        """
        with self._lock:
            self._refill()
            return {
                "tokens": round(self.tokens, 3),
                "capacity": self.capacity,
                "refill_per_second": self.rate,
                "waited_seconds_total": round(self.waited_total, 3),
            }


def wait_or_refuse(seconds: float, *, max_wait: float, what: str, sleep: Callable[[float], None] = time.sleep) -> float:
    """Sleep for a budget to refill, or refuse when that is too long.

    Args:
        seconds: The wait needed.
        max_wait: The longest wait allowed inside a call.
        what: Which budget, for the message.
        sleep: Sleep function.

    Returns:
        Seconds slept.

    Raises:
        EsiRateLimitError: When the wait exceeds ``max_wait``.
    """
    if seconds <= 0:
        return 0.0
    if seconds > max_wait:
        raise EsiRateLimitError(
            f"The ESI {what} budget is low; it refills in {math.ceil(seconds)} s.", retry_after=seconds
        )
    sleep(seconds)
    return seconds
