"""The raw Redis connection every budget key lives on."""

from __future__ import annotations

from typing import Any

from django_redis import get_redis_connection


def redis_connection() -> Any:
    """Return the raw Redis connection of the Django cache.

    Returns:
        The ``redis.Redis`` client (keys are not prefixed; replies are bytes).
    """
    return get_redis_connection("default")
