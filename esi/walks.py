"""One ESI page walk at a time across every process, with the region delay between walks.

A worker takes the slot for each region it walks. The pause of ``ESI_REGION_DELAY_SECONDS``
runs from the end of the previous walk (whichever process made it) to the start of the
next, so any number of workers walk no faster than one: scaling out never raises the
request rate that CCP sees.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from redis.exceptions import LockError

from esi import limits
from esi.errors import EsiRateLimitError

logger = logging.getLogger("esi")

WALK_LOCK_KEY = "esi:walk:lock"
WALK_ENDED_KEY = "esi:walk:ended_at"
# How often a walk waiting for the slot says so (``waiting``).
WAIT_REPORT_SECONDS = 5.0


def _redis_now() -> float:
    """Read Redis's clock (one clock for every process)."""
    seconds, micros = limits.redis_connection().time()
    return float(seconds) + micros / 1_000_000


@contextmanager
def esi_walk_slot(*, what: str, waiting: Callable[[], None] | None = None) -> Iterator[Callable[[], None]]:
    """Hold the one walk slot for the block, after the region delay since the previous walk ended.

    Args:
        what: What is walked, for the log.
        waiting: Called every ``WAIT_REPORT_SECONDS`` while another walk holds the slot (a job shows it is alive).

    Yields:
        A keep-alive to call after each page (the slot lapses ``ESI_WALK_LOCK_SECONDS`` after the
        last one, so a dead worker frees it).

    Raises:
        EsiRateLimitError: When the slot stayed taken for ``ESI_WALK_WAIT_SECONDS``.
    """
    conn = limits.redis_connection()
    lock = conn.lock(WALK_LOCK_KEY, timeout=float(settings.ESI_WALK_LOCK_SECONDS), sleep=0.05)
    waited = time.monotonic()
    deadline = waited + float(settings.ESI_WALK_WAIT_SECONDS)
    while not lock.acquire(blocking_timeout=max(0.0, min(WAIT_REPORT_SECONDS, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise EsiRateLimitError(f"Another ESI walk held the slot too long; {what} was not walked.", retry_after=60)
        if waiting is not None:
            waiting()
    try:
        ended = conn.get(WALK_ENDED_KEY)
        if ended is not None:
            pause = float(ended) + float(settings.ESI_REGION_DELAY_SECONDS) - _redis_now()
            if pause > 0:
                time.sleep(pause)
        logger.info("ESI walk of %s starts (waited %.2f s for the slot)", what, time.monotonic() - waited)
        yield lock.reacquire
    finally:
        conn.set(WALK_ENDED_KEY, repr(_redis_now()), ex=max(60, int(float(settings.ESI_REGION_DELAY_SECONDS) * 10)))
        try:
            lock.release()
        except LockError:
            logger.warning("ESI walk slot of %s had lapsed before its release", what)
