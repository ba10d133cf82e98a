"""Celery beat's scheduler: a heartbeat in Redis, and entries new to the schedule file due at once.

``celery -A evesite beat --scheduler evesite.beat:EvesiteScheduler`` (the Procfile and
docker-compose.yml use it). On top of celery's :class:`~celery.beat.PersistentScheduler`
(a shelve file holding every entry's ``last_run_at``):

* every :meth:`~EvesiteScheduler.tick` records beat's last tick time in Redis
  (:data:`BEAT_LAST_TICK_KEY`, epoch seconds, written at most every
  :data:`BEAT_TICK_WRITE_SECONDS`), which ``/api/health/`` reports as an age;
* entries that the schedule file did not hold yet are due at once on that start,
  so a fresh ``make run`` fills market snapshots, contracts and kill data without
  waiting a whole interval. Celery itself stamps a new entry's ``last_run_at`` with
  the start time, which delays its first run by its interval; the stamp it persists
  is kept, so a restart resumes from the stored ``last_run_at`` as usual.
"""

from __future__ import annotations

import heapq
import logging
import time
from typing import Any

import redis
from celery.beat import PersistentScheduler, ScheduleEntry, event_t
from celery.schedules import schedstate
from django.conf import settings

logger = logging.getLogger(__name__)

#: Redis key (in ``REDIS_URL``'s database, no cache prefix) holding beat's last tick, epoch seconds.
BEAT_LAST_TICK_KEY = "evesite:beat:last_tick"
#: Shortest interval between two writes of :data:`BEAT_LAST_TICK_KEY`.
BEAT_TICK_WRITE_SECONDS = 5.0


class EvesiteScheduler(PersistentScheduler):
    """PersistentScheduler with a Redis heartbeat, running entries new to the schedule file at once."""

    #: Longest sleep between two ticks (celery's default is 300 s): bounds the heartbeat's age.
    #: ``--max-interval`` or ``beat_max_loop_interval`` still override it.
    max_interval = 10

    #: Celery's heap of ``event_t(time, priority, entry)`` (built by ``populate_heap``).
    _heap: list[event_t] | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up the heartbeat state, then let celery open and merge the schedule file.

        Args:
            *args: Passed to :class:`~celery.beat.PersistentScheduler`.
            **kwargs: Passed to :class:`~celery.beat.PersistentScheduler`.
        """
        #: Names of the entries this start added to the schedule file; due until first sent.
        self.fresh_entries: set[str] = set()
        self._redis: redis.Redis | None = None
        self._last_heartbeat = float("-inf")  # time.monotonic() of the last write
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ new entries due at once
    def merge_inplace(self, b: dict[str, Any]) -> None:
        """Merge ``beat_schedule`` into the stored entries, remembering which names are new.

        Celery calls this from ``setup_schedule`` once the file is open (after any reset of
        the file), so a name missing from the store here has never run with this file.

        Args:
            b: The configured schedule (``CELERY_BEAT_SCHEDULE``).
        """
        stored = set(self.schedule)
        super().merge_inplace(b)
        self.fresh_entries |= set(b) - stored
        if self.fresh_entries:
            logger.info("beat: never-run entries due now: %s", ", ".join(sorted(self.fresh_entries)))

    def populate_heap(self, *args: Any, **kwargs: Any) -> None:
        """Build celery's heap, then move the never-run entries to the front (due now).

        Their event time becomes 0 (the epoch): ``tick`` finds them past due and asks
        :meth:`is_due`, which says yes.

        Args:
            *args: Passed to :meth:`~celery.beat.Scheduler.populate_heap`.
            **kwargs: Passed to :meth:`~celery.beat.Scheduler.populate_heap`.
        """
        super().populate_heap(*args, **kwargs)
        if self.fresh_entries and self._heap:
            self._heap = [
                event._replace(time=0.0) if event.entry.name in self.fresh_entries else event for event in self._heap
            ]
            heapq.heapify(self._heap)

    def is_due(self, entry: ScheduleEntry) -> schedstate:
        """Tell whether an entry is due; a never-run entry always is.

        Args:
            entry: The schedule entry.

        Returns:
            ``(is_due, seconds until the next check)``; for a never-run entry the next
            check is one interval after now (the time it is being sent).
        """
        if entry.name in self.fresh_entries and entry.schedule is not None:
            _, next_time_to_run = entry.schedule.is_due(entry.default_now())
            return schedstate(True, next_time_to_run)
        return schedstate(*entry.is_due())

    def reserve(self, entry: ScheduleEntry) -> ScheduleEntry:  # type: ignore[override]  # celery-types says event_t
        """Advance an entry that is being sent; from then on it follows its schedule.

        Args:
            entry: The entry being sent.

        Returns:
            The advanced entry (``last_run_at`` now, run count + 1).
        """
        self.fresh_entries.discard(entry.name)
        new_entry: ScheduleEntry = super().reserve(entry)  # type: ignore[assignment]  # celery returns the entry
        return new_entry

    # ------------------------------------------------------------------ heartbeat
    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Run celery's tick, then record the tick time in Redis (throttled).

        Args:
            *args: Passed to :meth:`~celery.beat.Scheduler.tick`.
            **kwargs: Passed to :meth:`~celery.beat.Scheduler.tick`.

        Returns:
            Seconds until the next tick.
        """
        delay: float = super().tick(*args, **kwargs)
        self.heartbeat()
        return delay

    def heartbeat(self, *, force: bool = False) -> None:
        """Write the current time to :data:`BEAT_LAST_TICK_KEY`, at most every few seconds.

        A Redis failure is logged and never stops beat.

        Args:
            force: Write even when the last write is recent.
        """
        now = time.monotonic()
        if not force and now - self._last_heartbeat < BEAT_TICK_WRITE_SECONDS:
            return
        self._last_heartbeat = now
        try:
            if self._redis is None:
                self._redis = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            self._redis.set(BEAT_LAST_TICK_KEY, f"{time.time():.3f}")
        except redis.RedisError as exc:
            logger.warning("beat: cannot record the tick in Redis: %s", exc)

    def close(self) -> None:
        """Sync and close the schedule file, then the heartbeat's Redis connection."""
        try:
            super().close()
        finally:
            if self._redis is not None:
                self._redis.close()
                self._redis = None
