"""The global lockdown: one Redis key (``ESI_GLOBAL_LOCKDOWN``) that stops every process after an error."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from esi.errors import EsiLockdownError
from esi.limits.connection import redis_connection
from esi.limits.stats import STATS_KEY

LOCKDOWN_KEY = "ESI_GLOBAL_LOCKDOWN"
# What Redis's PTTL answers for a missing key and for a key without expiry.
_PTTL_MISSING = -2
_PTTL_NO_EXPIRY = -1

# Set the lockdown unless a longer one (or one without expiry) is already there; stamp Redis's own clock.
_LOCKDOWN_EXTEND = """
local left = redis.call('PTTL', KEYS[1])
if left == -1 or left >= tonumber(ARGV[1]) then return 0 end
local value = cjson.decode(ARGV[2])
local now = redis.call('TIME')
value['set_at'] = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('SET', KEYS[1], cjson.encode(value), 'PX', ARGV[1])
return 1
"""

# Pass (1, seconds, microseconds of Redis's clock) when the lockdown key is absent, else (0, PTTL).
_LOCKDOWN_CHECK = """
local left = redis.call('PTTL', KEYS[1])
if left ~= -2 then return {0, left} end
local now = redis.call('TIME')
return {1, tonumber(now[1]), tonumber(now[2])}
"""


def lockdown_ttl() -> float | None:
    """Read how long the global lockdown still lasts.

    Returns:
        Seconds left, ``math.inf`` for a key without expiry, or None when there is no lockdown.
    """
    left = int(redis_connection().pttl(LOCKDOWN_KEY))
    if left == _PTTL_MISSING:
        return None
    if left == _PTTL_NO_EXPIRY:
        return math.inf
    return left / 1000.0


def lockdown_check() -> float:
    """Refuse to go on while the lockdown key exists.

    The check is one atomic Redis script, so it is ordered against every
    ``lockdown_set`` of every process: a check that passes happened before the key was set.

    Returns:
        Redis's clock (epoch seconds) at the moment the check passed.

    Raises:
        EsiLockdownError: With ``Retry-After`` = seconds left, rounded up.
    """
    conn = redis_connection()
    reply = conn.eval(_LOCKDOWN_CHECK, 1, LOCKDOWN_KEY)
    if int(reply[0]) == 1:
        return int(reply[1]) + int(reply[2]) / 1_000_000
    left = int(reply[1])
    conn.hincrby(STATS_KEY, "refused_locked", 1)
    retry = 3600.0 if left == -1 else left / 1000.0
    raise EsiLockdownError(f"ESI is locked down for {math.ceil(retry)} more seconds after an error.", retry_after=retry)


def lockdown_set(*, seconds: float, reason: str) -> bool:
    """Set the global lockdown at once, never shortening a longer one.

    Args:
        seconds: How long it lasts.
        reason: What caused it (stored as the key's value; no secrets).

    Returns:
        True when this call set or extended the key.
    """
    value = json.dumps({"reason": reason, "at": time.time(), "seconds": seconds})
    conn = redis_connection()
    done = bool(conn.eval(_LOCKDOWN_EXTEND, 1, LOCKDOWN_KEY, max(1, math.ceil(seconds * 1000)), value))
    conn.hincrby(STATS_KEY, "lockdowns", 1)
    return done


def lockdown_reason() -> dict[str, Any] | None:
    """Read what caused the current lockdown.

    Returns:
        The stored reason, or None when there is no lockdown.
    """
    raw = redis_connection().get(LOCKDOWN_KEY)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return {"reason": raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)}
    return value if isinstance(value, dict) else {"reason": str(value)}
