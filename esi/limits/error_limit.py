"""ESI's error limit (``X-ESI-Error-Limit-Remain`` / ``-Reset``), shared by every process."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from esi.limits.connection import redis_connection

ERROR_LIMIT_KEY = "esi:error_limit"

# Record the error-limit headers; within one window keep the lowest Remain (answers may arrive out of order).
_ERROR_LIMIT_RECORD = """
local old_reset = tonumber(redis.call('HGET', KEYS[1], 'reset_at') or '0')
local old_remain = tonumber(redis.call('HGET', KEYS[1], 'remain') or '-1')
local remain = tonumber(ARGV[1])
local reset_at = tonumber(ARGV[2])
if old_remain >= 0 and reset_at <= old_reset + 1.5 and old_remain < remain then remain = old_remain end
if reset_at < old_reset and reset_at > old_reset - 1.5 then reset_at = old_reset end
redis.call('HSET', KEYS[1], 'remain', remain, 'reset_at', reset_at, 'seen_at', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return remain
"""


@dataclass(frozen=True)
class ErrorLimitState:
    """The last error-limit figures ESI sent (``X-ESI-Error-Limit-Remain`` / ``-Reset``)."""

    remain: int
    reset_at: float
    seen_at: float

    def reset_in(self, now: float | None = None) -> float:
        """Seconds until the window resets.

        Args:
            now: Current epoch time (defaults to ``time.time()``).

        Returns:
            Seconds, never negative.
        """
        return max(0.0, self.reset_at - (time.time() if now is None else now))


def error_limit_record(*, remain: int, reset: float) -> int:
    """Store the error-limit headers of a response for every process.

    Args:
        remain: ``X-ESI-Error-Limit-Remain``.
        reset: ``X-ESI-Error-Limit-Reset`` (seconds until the window resets).

    Returns:
        The remain now stored (the lowest seen in this window).
    """
    now = time.time()
    keep_ms = math.ceil((max(reset, 0) + 5) * 1000)
    stored = redis_connection().eval(_ERROR_LIMIT_RECORD, 1, ERROR_LIMIT_KEY, remain, now + max(reset, 0), now, keep_ms)
    return int(stored)


def error_limit_spend() -> None:
    """Count one error against the stored budget (for an error answer that carried no headers)."""
    conn = redis_connection()
    if conn.exists(ERROR_LIMIT_KEY):
        conn.hincrby(ERROR_LIMIT_KEY, "remain", -1)


def error_limit_get() -> ErrorLimitState | None:
    """Read the last error-limit figures.

    Returns:
        The state, or None when nothing is known (or its window is over).
    """
    raw = redis_connection().hgetall(ERROR_LIMIT_KEY)
    if not raw:
        return None
    values = {k.decode(): v.decode() for k, v in raw.items()}
    try:
        return ErrorLimitState(
            remain=int(float(values["remain"])),
            reset_at=float(values["reset_at"]),
            seen_at=float(values.get("seen_at", 0)),
        )
    except (KeyError, ValueError):
        return None


def error_limit_wait_seconds(*, low_water: int) -> float:
    """How long to wait before the error budget allows another request.

    Args:
        low_water: Stop when ``Remain`` is at or below this.

    Returns:
        Seconds until the window resets when the budget is low, else 0.
    """
    state = error_limit_get()
    if state is None or state.remain > low_water:
        return 0.0
    return state.reset_in()
