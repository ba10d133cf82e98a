"""Route-group rate limits (``X-Ratelimit-*``): a floating window per group and owner, with a ledger of spending."""

from __future__ import annotations

import math
import re
import time
import uuid
from dataclasses import dataclass

from esi.limits.connection import redis_connection

RATE_GROUP_PREFIX = "esi:ratelimit:"
ROUTE_GROUPS_KEY = "esi:ratelimit:routes"

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
    """Return the Redis key of one group's state (``owner`` is ``"app"`` or a token hash)."""
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
