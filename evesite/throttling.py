"""API throttles counted in Redis, exact across every web process.

DRF's own throttles keep a request history in the cache with a read-modify-write, so two
processes can both let a request through that should have been refused. These keep the same
rates and scopes (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``) but count with one Lua script,
checked and updated atomically, timed by the Redis server's clock: a sliding window of request
times per client, or for the anonymous burst a bucket refilled evenly.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django_redis import get_redis_connection
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from evesite.gate_refusals import gate_client_refused

if TYPE_CHECKING:  # rest_framework.views imports this module through DEFAULT_THROTTLE_CLASSES
    from rest_framework.views import APIView

logger = logging.getLogger("evesite.throttling")

KEY_PREFIX = "throttle"
# A rate's period: an optional count and a unit, as in "60/min", "20/10s" or "1000/day".
_PERIOD = re.compile(r"(\d*)\s*([smhd])[a-z]*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# KEYS[1]: the client's window. ARGV: window (ms), limit, a unique member.
# Returns 0 when the request is allowed, else the milliseconds until the oldest request leaves the window.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


# A bucket of `limit` requests refilled evenly over the window (GCRA): `limit` at once, then one every
# window/limit. KEYS[1]: the client's theoretical arrival time (ms). ARGV: window (ms), limit, unused.
# Returns 0 when the request is allowed, else the milliseconds until the next one is.
_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local step = window / tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now) + step
if tat - now > window then
  return math.max(1, math.ceil(tat - window - now))
end
redis.call('SET', KEYS[1], tat, 'PX', math.ceil(tat - now))
return 0
"""


@functools.cache
def _script(redis: Redis, source: str) -> Script:
    """A script, registered once per connection pool (EVALSHA: Redis parses it once, not per request)."""
    return redis.register_script(source)


class RedisRateThrottle(SimpleRateThrottle):
    """A scoped rate (``"20/min"``) per client, counted in Redis; subclasses say who the client is."""

    scope: str
    # How the window counts: a sliding window of request times (at most the rate in any window).
    counting = _SLIDING_WINDOW

    def __init__(self) -> None:
        """Read the scope's rate now, so a changed setting (tests) takes effect."""
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self._wait_ms = 0

    def get_rate(self) -> str:
        """Return this scope's rate from the settings of the moment."""
        return str(api_settings.DEFAULT_THROTTLE_RATES[self.scope])

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        """Read ``"<requests>/<period>"``, the period being DRF's (``s``, ``min``, ``hour``, ``day``) or a multiple.

        Args:
            rate: E.g. ``"60/min"`` or ``"20/10s"``.

        Returns:
            (requests, seconds).

        Raises:
            ImproperlyConfigured: When the rate cannot be read.
        """
        if rate is None:
            return None, None
        num, _, period = rate.partition("/")
        match = _PERIOD.fullmatch(period.strip())
        seconds = int(match[1] or 1) * _UNIT_SECONDS[match[2]] if match else 0
        if not num.strip().isdigit() or not int(num) or not seconds:  # 0 requests broke both scripts
            raise ImproperlyConfigured(f"Throttle rate {rate!r} of scope {self.scope!r}: use e.g. 60/min or 20/10s.")
        return int(num), seconds

    def applies(self, request: Request, view: APIView) -> bool:
        """Say whether this request counts against the scope at all."""
        return True

    def allow_request(self, request: Request, view: APIView) -> bool:
        """Count the request in the client's window; refuse it when the window is full.

        Args:
            request: The request.
            view: The view.

        Returns:
            False when the client has used up its rate.
        """
        if not self.applies(request, view):
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        try:
            count = _script(get_redis_connection("default"), self.counting)
            window_ms = int(float(self.duration or 0) * 1000)
            wait_ms = int(count(keys=[key], args=[window_ms, self.num_requests or 0, secrets.token_hex(8)]))
        except RedisError as exc:
            # Redis down: health reports it; refusing every request would turn one outage into two.
            logger.warning("throttle %s not counted (Redis: %s)", self.scope, exc)
            return True
        self._wait_ms = wait_ms
        if wait_ms and isinstance(self, AnonRateThrottle):
            gate_client_refused(address=self.get_ident(request), wait_seconds=wait_ms / 1000)
        return wait_ms == 0

    def wait(self) -> float | None:
        """Return the seconds until the client may ask again (after a refusal)."""
        return self._wait_ms / 1000 if self._wait_ms else None

    def client_ident(self, request: Request) -> str:
        """Return the user's id, or ``ip:<address>`` when anonymous (``NUM_PROXIES`` decides the address)."""
        if request.user is not None and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"ip:{self.get_ident(request)}"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        """Return the Redis key of the client's window in this scope."""
        return f"{KEY_PREFIX}:{self.scope}:{self.client_ident(request)}"


def client_address(request: Request) -> str:
    """Return the client's IP address: ``REMOTE_ADDR``, or the proxies' view of it when ``API_NUM_PROXIES`` > 0."""
    return str(BaseThrottle().get_ident(request))


def throttles_with(*extra: type[BaseThrottle]) -> list[type[BaseThrottle]]:
    """Return the default throttles plus ``extra``, for a view's ``throttle_classes``."""
    defaults: list[type[BaseThrottle]] = list(api_settings.DEFAULT_THROTTLE_CLASSES)  # type: ignore[arg-type]
    return [*defaults, *extra]


class AnonRateThrottle(RedisRateThrottle):
    """Every API request of an anonymous client, per IP address (``THROTTLE_ANON_RATE``)."""

    scope = "anon"

    def applies(self, request: Request, view: APIView) -> bool:
        """Count anonymous requests only."""
        return not (request.user is not None and request.user.is_authenticated)


class AnonBurstRateThrottle(AnonRateThrottle):
    """An anonymous client's burst (``THROTTLE_ANON_BURST_RATE``): its minute is not spent in one second.

    A bucket rather than a window: with ``10/10s`` a client gets 10 requests at once, then one a second.
    A window would hand a client that never pauses 10 again every 10 s, all of them at the same moment.
    """

    scope = "anon_burst"
    counting = _BUCKET


class UserRateThrottle(RedisRateThrottle):
    """Every API request of a logged-in user (``THROTTLE_USER_RATE``)."""

    scope = "user"

    def applies(self, request: Request, view: APIView) -> bool:
        """Count logged-in users' requests only."""
        return request.user is not None and bool(request.user.is_authenticated)


class ExpensiveRateThrottle(RedisRateThrottle):
    """Requests that cost real work (scans, SVG routes, ...) per client (``THROTTLE_EXPENSIVE_RATE``)."""

    scope = "expensive"


class SvgExpensiveRateThrottle(ExpensiveRateThrottle):
    """The expensive rate for pictures only: a view's JSON answers count as ordinary requests."""

    def applies(self, request: Request, view: APIView) -> bool:
        """Count requests answered as SVG (``format=svg`` or ``Accept: image/svg+xml``)."""
        renderer: Any = getattr(request, "accepted_renderer", None)
        return getattr(renderer, "format", None) == "svg"
