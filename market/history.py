"""Writes of market history (issue 18): fetch ESI's daily statistics of a region's traded types, store them.

A region's history refresh is a job (``market.history_region``, progress in types) held through the Redis key
``market:history:{region_id}`` like the order refreshes (``market.refresh``). It fetches
``GET /markets/{region_id}/history/?type_id=`` through the ESI client for every type with orders in the
region's current snapshot whose stored history is missing or past ESI's ``Expires`` (daily, 11:05 UTC), so a
refresh that stops resumes where it was. Requests go out one at a time, ``ESI_PAGE_DELAY_SECONDS`` apart, in
batches of ``MARKET_HISTORY_BATCH_TYPES`` that each hold the ESI walk slot (order walks of other jobs get it
between batches); each batch is stored in one transaction. A type without history is stored as fetched and
empty. Web requests only call :func:`market_history_get` (which may queue a job and never waits).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_redis import get_redis_connection
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from esi import limits
from esi.budgets import budget_owner
from esi.cache import cache_key
from esi.client import EsiClient
from esi.errors import EsiPayloadError
from esi.walks import esi_walk_slot
from evesite.exceptions import ServiceUnavailableError
from jobs.models import Job, JobState
from jobs.services import job_create, job_progress_set, job_run, job_touch
from market.history_models import MarketHistoryType
from market.history_selectors import (
    HistorySeries,
    market_history_series,
    market_history_type_traded,
    market_history_types_due,
)
from market.selectors import market_snapshot_current_get
from universe.selectors import market_region_validate

logger = logging.getLogger("market")

HISTORY_KEY = "market:history:{region_id}"
KIND_HISTORY = "market.history_region"
HISTORY_TASK = "market.history_region"
# ESI's history expires daily at 11:05 UTC; an answer without Expires is trusted until the next one.
DAILY_EXPIRY = day_time(11, 5, tzinfo=UTC)
# Pause after giving the walk slot back, so that a walk waiting for it (polling every 0.05 s) gets it.
SLOT_YIELD_SECONDS = 0.2
HISTORY_COLUMNS = ("region_id", "type_id", "date", "average", "highest", "lowest", "order_count", "volume")

# The daily volume of every type whose window moved (the region's latest date changed) or whose rows were just
# stored (their state rows are written with a NULL volume first).
DAILY_VOLUME_SQL = """
UPDATE market_markethistorytype t
SET avg_daily_volume = COALESCE((
        SELECT SUM(h.volume) FROM market_markethistory h
        WHERE h.region_id = t.region_id AND h.type_id = t.type_id
          AND h.date > e.end_date - %(days)s AND h.date <= e.end_date
    ), 0)::float8 / %(days)s,
    volume_window_end = e.end_date
FROM (SELECT MAX(last_date) AS end_date FROM market_markethistorytype WHERE region_id = %(region_id)s) AS e
WHERE t.region_id = %(region_id)s
  AND (t.volume_window_end IS DISTINCT FROM e.end_date OR t.avg_daily_volume IS NULL)
"""

# Delete the key, or (failed) keep it for the retry pause, only while it still names this job.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) and 1 end
return redis.call('DEL', KEYS[1])
"""


class EsiHistoryDay(BaseModel):
    """One item of ``GET /markets/{region_id}/history`` (ESI's spec, compatibility date 2025-08-26)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    date: date
    average: float
    highest: float
    lowest: float
    order_count: int
    volume: int


_SERIES = TypeAdapter(list[EsiHistoryDay])


@dataclass(frozen=True)
class FetchedSeries:
    """A type's history as ESI answered it, and until when it is fresh."""

    type_id: int
    days: list[EsiHistoryDay]
    expires_at: datetime
    url: str


def _key(region_id: int) -> str:
    """The Redis key naming the job that holds a region's history."""
    return HISTORY_KEY.format(region_id=region_id)


def _next_daily_expiry(now: datetime) -> datetime:
    """The next 11:05 UTC after ``now``."""
    today = datetime.combine(now.astimezone(UTC).date(), DAILY_EXPIRY)
    return today if today > now else today + timedelta(days=1)


def _alive(job: Job) -> bool:
    """Tell whether a job still holds its region: queued, or running and writing progress."""
    if job.state == JobState.QUEUED:
        return True
    stale = timezone.now() - timedelta(seconds=float(settings.JOBS_STALE_SECONDS))
    return job.state == JobState.RUNNING and job.updated >= stale


def _release(*, region_id: int, job_id: str, failed: bool) -> None:
    """Free a region, or hold it for ``MARKET_REFRESH_RETRY_SECONDS`` after a failure."""
    hold = int(settings.MARKET_REFRESH_RETRY_SECONDS) if failed else 0
    get_redis_connection("default").eval(_RELEASE, 1, _key(region_id), job_id, hold)


def market_history_job_held(*, region_id: int) -> Job | None:
    """Return the job holding a region's history (queued, running, or failed within its retry pause).

    Args:
        region_id: The region.

    Returns:
        The job, or None.
    """
    holder = get_redis_connection("default").get(_key(region_id))
    held = Job.objects.filter(pk=holder.decode()).first() if holder else None
    return held if held is not None and (_alive(held) or held.state == JobState.FAILED) else None


def market_history_region_enqueue(*, region_id: int) -> Job:
    """Queue a history refresh of a region, or return the job that already holds it.

    Args:
        region_id: The region (checked against the SDE).

    Returns:
        The job (new, queued or running; a failed one during its retry pause).

    Raises:
        NotFoundError: For a region that is not in the SDE or has no NPC station.
        ServiceUnavailableError: When the claim kept racing (never expected).
    """
    market_region_validate(region_id=region_id)
    conn = get_redis_connection("default")
    for _ in range(3):
        holder = conn.get(_key(region_id))
        if holder is not None:
            held = market_history_job_held(region_id=region_id)
            if held is not None:
                return held
            _release(region_id=region_id, job_id=holder.decode(), failed=False)  # dead or finished
            continue
        job = job_create(kind=KIND_HISTORY, params={"region_id": region_id}, unit="types")
        if conn.set(_key(region_id), str(job.pk), nx=True, ex=int(settings.MARKET_HISTORY_LOCK_SECONDS)):
            transaction.on_commit(partial(current_app.send_task, HISTORY_TASK, args=[str(job.pk)]))
            logger.info("market: queued history job %s of region %d", job.pk, region_id)
            return job
        job.delete()  # another process claimed the region in between: look again
    raise ServiceUnavailableError(f"Could not queue a history refresh of region {region_id}; try again.")


def market_history_get(*, region_id: int, type_id: int) -> tuple[HistorySeries, Job | None]:
    """Read a type's history for the API; queue the region's refresh when the type was never fetched.

    Only a type with orders in the region's current snapshot is queued for (the refresh fetches those), and
    only when ``MARKET_HISTORY_ENABLED``. Never waits and never calls ESI.

    Args:
        region_id: The region.
        type_id: The type.

    Returns:
        The stored series (maybe empty) and the region's history job (queued, running or failed), if any.
    """
    series = market_history_series(region_id=region_id, type_id=type_id)
    wanted = series.status == "not_fetched" and bool(settings.MARKET_HISTORY_ENABLED)
    if wanted and market_history_type_traded(region_id=region_id, type_id=type_id):
        return series, market_history_region_enqueue(region_id=region_id)
    return series, market_history_job_held(region_id=region_id)


def market_history_type_fetch(*, client: Any, region_id: int, type_id: int) -> tuple[FetchedSeries, float | None]:
    """Fetch one type's history through the ESI client (cached by it until ``Expires``).

    Args:
        client: An ``esi.client.EsiClient``.
        region_id: The region.
        type_id: The type.

    Returns:
        The series, and when the answer arrived (monotonic; None when the client's cache answered).

    Raises:
        EsiPayloadError: When the body is not a list of history days.
        EsiError: Any error of the client (it has set the lockdown).
    """
    answer = client.get(f"/markets/{region_id}/history", params={"type_id": type_id})
    try:
        days = _SERIES.validate_python(answer.data if answer.data is not None else [])
    except ValidationError as exc:
        raise EsiPayloadError(
            f"ESI history does not fit its model ({exc.error_count()} errors).", status=answer.status, url=answer.url
        ) from exc
    expires = answer.expires or _next_daily_expiry(timezone.now())
    return FetchedSeries(type_id=type_id, days=days, expires_at=expires, url=answer.url), answer.received_at


def market_history_store(*, region_id: int, fetched: list[FetchedSeries], now: datetime | None = None) -> None:
    """Store fetched series (each replaces the type's stored days), their fetch state and the daily volumes.

    Days older than ``MARKET_HISTORY_KEEP_DAYS`` before today (UTC) are not kept; rows go in with COPY. One
    transaction, serialised per region by an advisory lock; the daily volumes of the region are brought up to
    date in it (see ``DAILY_VOLUME_SQL``).

    Args:
        region_id: The region.
        fetched: The series.
        now: The fetch time (now when None).
    """
    if not fetched:
        return
    now = now or timezone.now()
    keep = max(int(settings.MARKET_HISTORY_KEEP_DAYS), int(settings.MARKET_HISTORY_DAYS))
    keep_from = now.astimezone(UTC).date() - timedelta(days=keep)
    kept = {f.type_id: {d.date: d for d in f.days if d.date >= keep_from} for f in fetched}
    type_ids = sorted(kept)
    states = [
        MarketHistoryType(
            region_id=region_id,
            type_id=f.type_id,
            fetched_at=now,
            expires_at=f.expires_at,
            days=len(kept[f.type_id]),
            first_date=min(kept[f.type_id], default=None),
            last_date=max(kept[f.type_id], default=None),
            avg_daily_volume=None,
        )
        for f in {f.type_id: f for f in fetched}.values()
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7, region_id])
        cursor.execute(
            "DELETE FROM market_markethistory WHERE region_id = %s AND type_id = ANY(%s)", [region_id, type_ids]
        )
        with cursor.cursor.copy(f"COPY market_markethistory ({', '.join(HISTORY_COLUMNS)}) FROM STDIN") as copy:
            for type_id in type_ids:
                for d in kept[type_id].values():
                    copy.write_row(
                        (region_id, type_id, d.date, d.average, d.highest, d.lowest, d.order_count, d.volume)
                    )
        MarketHistoryType.objects.bulk_create(
            states,
            update_conflicts=True,
            unique_fields=["region_id", "type_id"],
            update_fields=["fetched_at", "expires_at", "days", "first_date", "last_date", "avg_daily_volume"],
        )
        cursor.execute(DAILY_VOLUME_SQL, {"region_id": region_id, "days": int(settings.MARKET_HISTORY_DAYS)})


def _cached_copies_drop(fetched: list[FetchedSeries]) -> None:
    """Drop the ESI client's Redis copies of stored series (PostgreSQL holds them and their Expires now)."""
    owner = budget_owner(None)
    keys = [cache_key(f.url, owner) for f in fetched]
    if keys:
        limits.redis_connection().delete(*keys)


def _batch_fetch(
    *, job_id: str, region_id: int, type_ids: list[int], client: Any, done: int, total: int
) -> list[FetchedSeries]:
    """Fetch one batch inside the ESI walk slot, ``ESI_PAGE_DELAY_SECONDS`` between requests; report each type."""
    fetched: list[FetchedSeries] = []
    last: float | None = None
    waiting = partial(job_touch, job_id=job_id)
    with esi_walk_slot(what=f"market history of region {region_id} ({len(type_ids)} types)", waiting=waiting) as alive:
        for type_id in type_ids:
            if last is not None:
                time.sleep(max(0.0, last + float(settings.ESI_PAGE_DELAY_SECONDS) - time.monotonic()))
            series, received = market_history_type_fetch(client=client, region_id=region_id, type_id=type_id)
            last = received if received is not None else last
            fetched.append(series)
            alive()
            job_progress_set(job_id=job_id, done=done + len(fetched), total=total)
    return fetched


def _region_history(*, job_id: str, region_id: int) -> dict[str, Any]:
    """Fetch and store every due type of a region, batch by batch; return the job's result."""
    snapshot = market_snapshot_current_get(region_id=region_id)
    if snapshot is None:
        return {"types": 0, "stored": 0, "empty": 0, "reason": f"no market snapshot of region {region_id}"}
    due = market_history_types_due(region_id=region_id, snapshot_id=snapshot.pk)
    job_progress_set(job_id=job_id, done=0, total=len(due))
    client = EsiClient()
    batch = max(1, int(settings.MARKET_HISTORY_BATCH_TYPES))
    stored = empty = 0
    for start in range(0, len(due), batch):
        if start:
            time.sleep(SLOT_YIELD_SECONDS)
        chunk = due[start : start + batch]
        fetched = _batch_fetch(
            job_id=job_id, region_id=region_id, type_ids=chunk, client=client, done=start, total=len(due)
        )
        market_history_store(region_id=region_id, fetched=fetched)
        _cached_copies_drop(fetched)
        get_redis_connection("default").expire(_key(region_id), int(settings.MARKET_HISTORY_LOCK_SECONDS))
        stored += len(fetched)
        empty += sum(1 for f in fetched if not f.days)
    logger.info("market: history of %d types of region %d stored (%d empty)", stored, region_id, empty)
    return {"types": len(due), "stored": stored, "empty": empty, "snapshot_id": snapshot.pk}


def market_history_region_run(*, job_id: uuid.UUID | str) -> dict[str, Any] | None:
    """Run a region's history job (worker side). Safe to run twice: an ended or running job is left alone.

    Args:
        job_id: A ``market.history_region`` job.

    Returns:
        The job's result (types due, stored, empty), or None when this call did not run the job.

    Raises:
        EsiError: When ESI failed (the job is marked failed; what was stored before stays).
    """
    job_id = str(job_id)

    def work(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Fetch and store the region's due types."""
        result = _region_history(job_id=job_id, region_id=int(params["region_id"]))
        return result, result

    def release(params: dict[str, Any], failed: bool) -> None:
        """Free the region."""
        _release(region_id=int(params["region_id"]), job_id=job_id, failed=failed)

    return job_run(job_id=job_id, work=work, release=release)


def market_history_regions_enqueue(*, region_ids: list[int] | None = None) -> list[Job]:
    """Queue the history refresh of each region with a current snapshot (the beat's entry point).

    Args:
        region_ids: The regions (``MARKET_HISTORY_REGIONS`` when None).

    Returns:
        Their jobs (a region already held gives its job); none when ``MARKET_HISTORY_ENABLED`` is off.
    """
    if not settings.MARKET_HISTORY_ENABLED:
        return []
    regions = list(settings.MARKET_HISTORY_REGIONS if region_ids is None else region_ids)
    return [
        market_history_region_enqueue(region_id=region_id)
        for region_id in regions
        if market_snapshot_current_get(region_id=region_id) is not None
    ]
