"""Budgets shared through Redis: the global lockdown, ESI's error limit, route-group rate limits.

Every process (web workers, Celery workers, management commands) reads and
writes the same raw Redis keys (not the prefixed Django cache keys), so one
process's error locks every other one out, and a budget spent by one is seen
by all. A small per-process token bucket smooths bursts on top of that.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django_redis import get_redis_connection

from esi.errors import EsiLockdownError, EsiRateLimitError

LOCKDOWN_KEY = "ESI_GLOBAL_LOCKDOWN"
ERROR_LIMIT_KEY = "esi:error_limit"
RATE_GROUP_PREFIX = "esi:ratelimit:"
ROUTE_GROUPS_KEY = "esi:ratelimit:routes"
CALLS_KEY = "esi:calls"
STATS_KEY = "esi:stats"
BUCKET_KEY = "esi:bucket"
CALLS_KEPT = 50

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


def redis_connection() -> Any:
    """Return the raw Redis connection of the Django cache.

    Returns:
        The ``redis.Redis`` client (keys are not prefixed; replies are bytes).
    """
    return get_redis_connection("default")


# --------------------------------------------------------------------------- global lockdown
def lockdown_ttl() -> float | None:
    """Read how long the global lockdown still lasts.

    Returns:
        Seconds left, ``math.inf`` for a key without expiry, or None when there is no lockdown.
    """
    left = int(redis_connection().pttl(LOCKDOWN_KEY))
    if left == -2:
        return None
    if left == -1:
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


# --------------------------------------------------------------------------- error limit
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


# --------------------------------------------------------------------------- route-group rate limits
_LIMIT_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_limit_parse(value: str) -> tuple[int, int] | None:
    """Parse ``X-Ratelimit-Limit`` such as ``150/15m``.

    Args:
        value: The header.

    Returns:
        (tokens per window, window seconds), or None when unreadable.
    """
    match = _LIMIT_RE.match(value or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)) * _UNITS[match.group(3)]


def route_key(path: str) -> str:
    """Generalise a concrete path to a route key (numeric segments become ``{id}``).

    Args:
        path: A concrete path.

    Returns:
        The route key, e.g. ``/markets/{id}/orders``.
    """
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


def _group_key(group: str, owner: str) -> str:
    """Return the Redis key of one group's state.

    Args:
        group: ``X-Ratelimit-Group``.
        owner: ``"app"`` or a hash identifying the character token.

    Returns:
        The key.
    """
    return f"{RATE_GROUP_PREFIX}{group}:{owner}"


def rate_limit_record(*, path: str, owner: str, group: str, limit: str, remaining: int, used: int) -> None:
    """Store a route group's rate-limit headers and the tokens this response spent.

    Args:
        path: The concrete path requested (its route is mapped to the group).
        owner: ``"app"`` or a hash of the character's token.
        group: ``X-Ratelimit-Group``.
        limit: ``X-Ratelimit-Limit``.
        remaining: ``X-Ratelimit-Remaining``.
        used: ``X-Ratelimit-Used``.
    """
    parsed = rate_limit_parse(limit)
    window = parsed[1] if parsed else 900
    now = time.time()
    key = _group_key(group, owner)
    conn = redis_connection()
    pipe = conn.pipeline()
    pipe.hset(ROUTE_GROUPS_KEY, route_key(path), group)
    pipe.hset(
        key,
        mapping={
            "group": group,
            "limit": limit,
            "tokens": parsed[0] if parsed else -1,
            "window": window,
            "remaining": remaining,
            "used": used,
            "seen_at": now,
        },
    )
    pipe.expire(key, window + 5)
    ledger = f"{key}:ledger"
    pipe.zadd(ledger, {f"{used}:{uuid.uuid4().hex[:8]}": now})
    pipe.zremrangebyscore(ledger, 0, now - window)
    pipe.expire(ledger, window + 5)
    pipe.execute()


@dataclass(frozen=True)
class RateGroupState:
    """What is known about one route group's budget."""

    group: str
    owner: str
    limit: str
    tokens: int
    window: int
    remaining: int
    used: int
    seen_at: float
    estimated_remaining: int


def rate_group_get(*, group: str, owner: str) -> RateGroupState | None:
    """Read one group's state, estimating the tokens returned since it was seen.

    Args:
        group: The route group.
        owner: ``"app"`` or a token hash.

    Returns:
        The state, or None when nothing is known.
    """
    key = _group_key(group, owner)
    conn = redis_connection()
    raw = conn.hgetall(key)
    if not raw:
        return None
    v = {k.decode(): val.decode() for k, val in raw.items()}
    window = int(v["window"])
    seen_at = float(v["seen_at"])
    now = time.time()
    returned = 0
    for member, spent_at in conn.zrangebyscore(f"{key}:ledger", 0, seen_at, withscores=True):
        if spent_at + window <= now:
            returned += int(member.decode().split(":", 1)[0])
    remaining = int(v["remaining"])
    tokens = int(v["tokens"])
    estimate = remaining + returned if tokens < 0 else min(tokens, remaining + returned)
    return RateGroupState(
        group=v["group"],
        owner=owner,
        limit=v["limit"],
        tokens=tokens,
        window=window,
        remaining=remaining,
        used=int(v["used"]),
        seen_at=seen_at,
        estimated_remaining=estimate,
    )


def rate_groups_all() -> list[RateGroupState]:
    """Read every known group's state.

    Returns:
        The states, sorted by group.
    """
    states = []
    for raw_key in redis_connection().scan_iter(match=f"{RATE_GROUP_PREFIX}*"):
        key = raw_key.decode()
        rest = key[len(RATE_GROUP_PREFIX) :]
        if key == ROUTE_GROUPS_KEY or rest.endswith(":ledger") or ":" not in rest:
            continue
        group, owner = rest.rsplit(":", 1)
        state = rate_group_get(group=group, owner=owner)
        if state:
            states.append(state)
    return sorted(states, key=lambda s: (s.group, s.owner))


def rate_limit_wait_seconds(*, path: str, owner: str, low_water_fraction: float) -> float:
    """How long to wait before the path's route group allows another request.

    Tokens come back one window after they were spent (ESI's floating window),
    so the wait lasts until enough of the ledger's spending has aged out.

    Args:
        path: The concrete path about to be requested.
        owner: ``"app"`` or a token hash.
        low_water_fraction: Keep this share of the group's tokens in reserve (at least 1 token).

    Returns:
        Seconds to wait (0 when the budget is fine or unknown).
    """
    conn = redis_connection()
    group_raw = conn.hget(ROUTE_GROUPS_KEY, route_key(path))
    if group_raw is None:
        return 0.0
    state = rate_group_get(group=group_raw.decode(), owner=owner)
    if state is None:
        return 0.0
    reserve = max(1, math.ceil(max(state.tokens, 0) * low_water_fraction))
    if state.estimated_remaining > reserve:
        return 0.0
    needed = reserve - state.estimated_remaining + 1
    key = _group_key(state.group, owner)
    ledger = [
        (float(spent_at), int(member.decode().split(":", 1)[0]))
        for member, spent_at in conn.zrangebyscore(f"{key}:ledger", 0, "+inf", withscores=True)
    ]
    return tokens_back_in(
        ledger=ledger, window=state.window, now=time.time(), needed=needed, fallback_at=state.seen_at + state.window
    )


def tokens_back_in(
    *, ledger: list[tuple[float, int]], window: float, now: float, needed: int, fallback_at: float
) -> float:
    """Seconds until ``needed`` spent tokens come back in a floating window.

    Args:
        ledger: (spent at, tokens) of recent requests; entries already back are ignored.
        window: Window length in seconds (a token comes back ``window`` after it was spent).
        now: Current epoch time.
        needed: Tokens that must come back.
        fallback_at: When to assume the budget is whole again if the ledger cannot cover ``needed``.

    Returns:
        Seconds to wait, never negative.
    """
    freed = 0
    for spent_at, used in sorted(ledger):
        if spent_at + window <= now:
            continue
        freed += used
        if freed >= needed:
            return max(0.0, spent_at + window - now)
    return max(0.0, fallback_at - now)


# --------------------------------------------------------------------------- local token bucket
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


# --------------------------------------------------------------------------- call log and counters
def call_record(entry: dict[str, Any]) -> None:
    """Keep one call in the shared list of the last calls and count it.

    Args:
        entry: What to show (method, URL without secrets, status, remain, timings).
    """
    conn = redis_connection()
    pipe = conn.pipeline()
    pipe.lpush(CALLS_KEY, json.dumps(entry))
    pipe.ltrim(CALLS_KEY, 0, CALLS_KEPT - 1)
    pipe.hincrby(STATS_KEY, "requests", 1)
    if entry.get("error"):
        pipe.hincrby(STATS_KEY, "errors", 1)
    pipe.execute()


def calls_recent(limit: int = CALLS_KEPT) -> list[dict[str, Any]]:
    """Read the last calls, newest first.

    Args:
        limit: At most this many.

    Returns:
        The calls.
    """
    return [json.loads(raw) for raw in redis_connection().lrange(CALLS_KEY, 0, limit - 1)]


def stats_get() -> dict[str, int]:
    """Read the shared counters.

    Returns:
        Counters such as ``requests``, ``errors``, ``lockdowns``, ``refused_locked``.
    """
    return {k.decode(): int(v) for k, v in redis_connection().hgetall(STATS_KEY).items()}


def bucket_publish(snapshot: dict[str, float], *, pid: int) -> None:
    """Publish a process's bucket state for the status page.

    Args:
        snapshot: ``TokenBucket.snapshot()``.
        pid: The process id.
    """
    redis_connection().set(BUCKET_KEY, json.dumps({**snapshot, "pid": pid, "at": time.time()}), ex=3600)


def bucket_last() -> dict[str, Any] | None:
    """Read the last published bucket state.

    Returns:
        The snapshot with its pid, or None.
    """
    raw = redis_connection().get(BUCKET_KEY)
    return json.loads(raw) if raw else None


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
