"""A site-wide cap on expensive requests in flight (scans, SVG routes).

Per-client rates do not bound the whole: fifty addresses within their rates can still keep every
CPU busy with scans, and then health and every cheap request queue behind them. At most
``API_EXPENSIVE_CONCURRENCY`` expensive requests run at once across every web process; one more is
refused at once with 429 ``busy`` and ``Retry-After: 1``. Slots live in a Redis sorted set; a slot
whose process died lapses after ``API_EXPENSIVE_SLOT_SECONDS``.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.response import Response

from evesite.exceptions import ThrottledError
from evesite.throttling import ExpensiveRateThrottle

logger = logging.getLogger("evesite.admission")

SLOTS_KEY = "admission:expensive"

# KEYS[1]: the slots. ARGV: slot lifetime (ms), limit, token. Returns 1 when a slot was taken.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


class BusyError(ThrottledError):
    """Too many expensive requests run at once on the whole site; ask again in a second."""

    code = "busy"


def expensive_slot_acquire() -> str | None:
    """Take a slot for one expensive request.

    Returns:
        The slot's token, or None when no cap is set or Redis is down (the request runs uncounted).

    Raises:
        BusyError: When every slot is taken.
    """
    limit = int(settings.API_EXPENSIVE_CONCURRENCY)
    if limit <= 0:
        return None
    token = secrets.token_hex(8)
    lifetime_ms = int(float(settings.API_EXPENSIVE_SLOT_SECONDS) * 1000)
    try:
        taken = get_redis_connection("default").eval(_ACQUIRE, 1, SLOTS_KEY, lifetime_ms, limit, token)
    except RedisError as exc:
        logger.warning("expensive request not counted (Redis: %s)", exc)
        return None
    if not taken:
        raise BusyError(
            "The server is busy with other scans; try again in a second.",
            headers={"Retry-After": "1"},
            retry_after=1,
        )
    return token


def expensive_slot_release(*, token: str) -> None:
    """Give a slot back (a slot that cannot be given back lapses on its own)."""
    try:
        get_redis_connection("default").zrem(SLOTS_KEY, token)
    except RedisError as exc:
        logger.warning("expensive slot %s not released (Redis: %s)", token, exc)


class ExpensiveAdmissionMixin:
    """For API views: a request that counts against an ``ExpensiveRateThrottle`` also needs a site-wide slot.

    The slot is taken after authentication, permissions and throttles pass, and given back when the
    response is finalized (also after an error).
    """

    _slot_token: str | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Run DRF's checks, then take a slot when the request is expensive."""
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        view: Any = self
        if any(isinstance(t, ExpensiveRateThrottle) and t.applies(request, view) for t in view.get_throttles()):
            self._slot_token = expensive_slot_acquire()

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """Give the slot back, then let DRF finish the response."""
        if self._slot_token is not None:
            expensive_slot_release(token=self._slot_token)
            self._slot_token = None
        result: Response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        return result
