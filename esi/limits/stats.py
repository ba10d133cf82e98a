"""The shared call log and counters shown on the ESI status page, and the last bucket state."""

from __future__ import annotations

import json
import time
from typing import Any

from esi.limits.connection import redis_connection

CALLS_KEY = "esi:calls"
STATS_KEY = "esi:stats"
BUCKET_KEY = "esi:bucket"
CALLS_KEPT = 50


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
