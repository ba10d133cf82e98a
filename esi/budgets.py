"""The ESI client's side of the budgets: wait before a request, record what ESI said after it.

The shared state (error limit, route-group rate limits, lockdown) lives in
:mod:`esi.limits`; this module decides when a request may leave and feeds the
headers of each answer back into it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from http import HTTPStatus

from django.conf import settings
from requests.structures import CaseInsensitiveDict

from esi import limits
from esi.response import int_header
from esi.webmode import in_web_request

logger = logging.getLogger("esi")


class _BucketHolder:
    """This process's token bucket, rebuilt when the settings change."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bucket: limits.TokenBucket | None = None

    def get(self, *, capacity: float, rate: float) -> limits.TokenBucket:
        """Return the bucket for these settings, replacing one built for others."""
        with self.lock:
            if self.bucket is None or self.bucket.capacity != capacity or self.bucket.rate != rate:
                self.bucket = limits.TokenBucket(capacity=capacity, rate=rate)
            return self.bucket


_process_buckets = _BucketHolder()


def budget_owner(token: str | None) -> str:
    """Identify whose budget a call spends without keeping the token.

    Args:
        token: The access token, if any.

    Returns:
        ``"app"``, or a short hash of the token.
    """
    return "app" if not token else "tok-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def _process_bucket() -> limits.TokenBucket:
    """Return this process's token bucket, rebuilt when the settings changed."""
    return _process_buckets.get(
        capacity=float(settings.ESI_BUCKET_CAPACITY), rate=float(settings.ESI_BUCKET_REFILL_PER_SECOND)
    )


def budgets_wait(path: str, owner: str, not_before: float | None) -> None:
    """Wait until every budget allows one more request.

    Args:
        path: The path about to be requested.
        owner: Budget owner.
        not_before: Monotonic time before which the request must not leave (page delay).

    Raises:
        EsiRateLimitError: When a wait would exceed ``ESI_MAX_WAIT_SECONDS``.
    """
    if not_before is not None:
        delay = not_before + float(settings.ESI_PAGE_DELAY_SECONDS) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    low_water = int(settings.ESI_ERROR_LIMIT_LOW_WATER)
    max_wait = 0.0 if in_web_request() else float(settings.ESI_MAX_WAIT_SECONDS)
    deadline = time.monotonic() + max_wait
    # A wait can end in a window that is low again (other processes): look again until both budgets allow.
    while True:
        error_wait = limits.error_limit_wait_seconds(low_water=low_water)
        rate_wait = limits.rate_limit_wait_seconds(
            path=path, owner=owner, low_water_fraction=float(settings.ESI_RATE_LIMIT_LOW_WATER)
        )
        if error_wait <= 0 and rate_wait <= 0:
            break
        what = "error-limit" if error_wait >= rate_wait else "rate-limit"
        waited = limits.wait_or_refuse(
            max(error_wait, rate_wait), max_wait=max(0.0, deadline - time.monotonic()), what=what
        )
        logger.warning("ESI %s budget of %s at its low-water mark: waited %.2f s", what, path, waited)
    bucket = _process_bucket()
    state = limits.error_limit_get()
    if state is not None and state.reset_in() > 0:
        bucket.cap(state.remain - low_water)
    bucket.acquire()
    limits.bucket_publish(bucket.snapshot(), pid=os.getpid())


def budgets_record(path: str, owner: str, status: int, headers: CaseInsensitiveDict[str]) -> int | None:
    """Store the error-limit and rate-limit headers of an answer for every process.

    Args:
        path: The path requested.
        owner: Budget owner.
        status: HTTP status.
        headers: Response headers.

    Returns:
        ``X-ESI-Error-Limit-Remain``, or None when absent.
    """
    remain = int_header(headers, "X-ESI-Error-Limit-Remain")
    reset = int_header(headers, "X-ESI-Error-Limit-Reset")
    if remain is not None:
        if reset is None:
            known = limits.error_limit_get()
            reset = math.ceil(known.reset_in()) if known and known.reset_in() > 0 else 60
        # A huge reset would keep every call waiting or refused for as long: capped like Retry-After.
        reset = min(reset, math.ceil(float(settings.ESI_MAX_RETRY_AFTER_SECONDS)))
        limits.error_limit_record(remain=remain, reset=reset)
    elif status >= HTTPStatus.BAD_REQUEST:
        limits.error_limit_spend()
    group = headers.get("X-Ratelimit-Group")
    remaining = int_header(headers, "X-Ratelimit-Remaining")
    if group and remaining is not None:
        limits.rate_limit_record(
            path=path,
            owner=owner,
            group=group,
            limit=headers.get("X-Ratelimit-Limit") or "",
            remaining=remaining,
            used=int_header(headers, "X-Ratelimit-Used") or 0,
        )
    return remain
