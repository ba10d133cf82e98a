"""Budgets of image-server downloads (cache misses) per client address and in total, counted in Redis.

Each budget is a sliding window of one minute: a sorted set of the download times, checked and
appended by one Lua script over both windows (atomic across every process, timed by the Redis
server's clock). A refused miss is not counted. Hits never come here.
"""

from __future__ import annotations

import ipaddress
import secrets

from django.conf import settings
from django_redis import get_redis_connection

from evesite.exceptions import ThrottledError

BUDGET_PREFIX = "evesite:img:miss:"
WINDOW_MS = 60_000

# KEYS: the windows. ARGV[1]: window (ms); ARGV[2]: a unique member; ARGV[2 + i]: the limit of KEYS[i].
# Returns 0 when the miss is allowed (and counted in every window), else the ms until it would be.
_TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now, 1)
  end
end
if wait > 0 then
  return wait
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return 0
"""


class ImageMissBudgetError(ThrottledError):
    """Too many images not cached yet were asked for in the last minute (by this address, or by everyone)."""

    code = "image_miss_budget_exceeded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        """Build the 429 with its ``Retry-After`` header.

        Args:
            message: Human-readable explanation.
            retry_after: Whole seconds until a miss may be fetched again.
        """
        super().__init__(message, headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def client_bucket(*, client_ip: str) -> str:
    """Name whose budget a client address uses: the address itself, for IPv6 its /64 (one subscriber's).

    Args:
        client_ip: The client's address (:func:`evesite.throttling.client_address`).

    Returns:
        e.g. ``203.0.113.5`` or ``2001:db8::/64``; ``unknown`` when it is no address.
    """
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def image_miss_budget_take(*, client_ip: str) -> None:
    """Count one download against the client's and the global budget, or refuse it.

    Limits: ``IMAGE_MISS_PER_IP_PER_MINUTE`` and ``IMAGE_MISS_GLOBAL_PER_MINUTE`` (0 turns one off).

    Args:
        client_ip: The client's address (:func:`evesite.throttling.client_address`).

    Raises:
        ImageMissBudgetError: A budget is used up (429 with ``Retry-After``); nothing was counted.
        redis.RedisError: Redis is unreachable (the caller answers 503).
    """
    windows = [
        (BUDGET_PREFIX + "ip:" + client_bucket(client_ip=client_ip), int(settings.IMAGE_MISS_PER_IP_PER_MINUTE)),
        (BUDGET_PREFIX + "global", int(settings.IMAGE_MISS_GLOBAL_PER_MINUTE)),
    ]
    windows = [(key, limit) for key, limit in windows if limit > 0]
    if not windows:
        return
    keys = [key for key, _ in windows]
    limits = [limit for _, limit in windows]
    redis = get_redis_connection("default")
    wait_ms = int(redis.eval(_TAKE_SCRIPT, len(keys), *keys, WINDOW_MS, secrets.token_hex(8), *limits))
    if wait_ms > 0:
        retry_after = max(1, -(-wait_ms // 1000))
        raise ImageMissBudgetError(
            f"Too many images not cached yet were requested; try again in {retry_after} s.", retry_after=retry_after
        )
