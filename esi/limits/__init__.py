"""Budgets shared through Redis: the global lockdown, ESI's error limit, route-group rate limits.

Every process (web workers, Celery workers, management commands) reads and
writes the same raw Redis keys (not the prefixed Django cache keys), so one
process's error locks every other one out, and a budget spent by one is seen
by all. A small per-process token bucket smooths bursts on top of that.

Callers use this package's names (``from esi import limits``); the modules are
:mod:`~esi.limits.lockdown`, :mod:`~esi.limits.error_limit`,
:mod:`~esi.limits.rate_groups`, :mod:`~esi.limits.bucket` and :mod:`~esi.limits.stats`.
"""

from __future__ import annotations

from esi.limits.bucket import TokenBucket, wait_or_refuse
from esi.limits.connection import redis_connection
from esi.limits.error_limit import (
    ERROR_LIMIT_KEY,
    ErrorLimitState,
    error_limit_get,
    error_limit_record,
    error_limit_spend,
    error_limit_wait_seconds,
)
from esi.limits.lockdown import LOCKDOWN_KEY, lockdown_check, lockdown_reason, lockdown_set, lockdown_ttl
from esi.limits.rate_groups import (
    RATE_GROUP_PREFIX,
    ROUTE_GROUPS_KEY,
    RateGroupState,
    rate_group_get,
    rate_groups_all,
    rate_limit_parse,
    rate_limit_record,
    rate_limit_wait_seconds,
    route_key,
    tokens_back_in,
)
from esi.limits.stats import (
    BUCKET_KEY,
    CALLS_KEPT,
    CALLS_KEY,
    STATS_KEY,
    bucket_last,
    bucket_publish,
    call_record,
    calls_recent,
    stats_get,
)

__all__ = [
    "BUCKET_KEY",
    "CALLS_KEPT",
    "CALLS_KEY",
    "ERROR_LIMIT_KEY",
    "LOCKDOWN_KEY",
    "RATE_GROUP_PREFIX",
    "ROUTE_GROUPS_KEY",
    "STATS_KEY",
    "ErrorLimitState",
    "RateGroupState",
    "TokenBucket",
    "bucket_last",
    "bucket_publish",
    "call_record",
    "calls_recent",
    "error_limit_get",
    "error_limit_record",
    "error_limit_spend",
    "error_limit_wait_seconds",
    "lockdown_check",
    "lockdown_reason",
    "lockdown_set",
    "lockdown_ttl",
    "rate_group_get",
    "rate_groups_all",
    "rate_limit_parse",
    "rate_limit_record",
    "rate_limit_wait_seconds",
    "redis_connection",
    "route_key",
    "stats_get",
    "tokens_back_in",
    "wait_or_refuse",
]
